#!/usr/bin/env bash
# One lane of "Five times the data, one seed" in README.md: recipe 3's seed 2 and its seed-2
# twins of the five width-96 subnets below the largest, at the published rate (0.1), trained
# for 3,000 steps on the 8.5 h of corpora/open-10h instead of the 1.7 h of corpora/open-2h,
# then decoded on corpora/open-2h-eval as every other run (the mean of the last five
# checkpoints up to step 3,000), into reruns-scale0.1-10h.json.
#
#   todm data synth --out corpora/open-10h --domain open --hours 10 --exclude-text corpora/open-2h-eval/*.jsonl
#   bash benchmarks/supernet_vs_individual/more_data_runs.sh a   # the supernet, then one twin
#   bash benchmarks/supernet_vs_individual/more_data_runs.sh b   # four twins
#   .venv/bin/python benchmarks/supernet_vs_individual/more_data.py --record
#
# Every step resumes (training from the last checkpoint, decoding from the evaluations kept
# beside the checkpoints), so a lane killed with its session is started again as it was.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
COMMON="--corpus corpora/open-10h --config configs/svi-cpu.yaml --set max_steps=3000 --set num_threads=1 --quiet \
    --set optim.scale_lr_scale=0.1 --set seed=2"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
LABEL="recipe 3 (one random subnet per width)"
STRAT=exp/svi-cpu-scale0.1-10h-strat-seed2
TWINS=exp/svi-cpu-scale0.1-10h-twin-seed2
ALL="L2-D96-F384x2-H4x2 L3-D96-F288x3-H4x3 L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4"
READ="--eval-corpus corpora/open-2h-eval --last 5 --step 3000 --record --record-file reruns-scale0.1-10h.json"

twin() {
  $PY $D/run.py $COMMON --out $TWINS --part individual --subnets "$1"
  flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "$1" --twins "2=$TWINS"
}

case "${1:-}" in
  a)
    $PY $D/run.py $COMMON $R3 --out $STRAT --part supernet
    flock exp/reruns.lock $PY $D/reruns.py $READ --subnets $ALL --supernet "$LABEL=2:$STRAT/supernet"
    twin L3-D96-F384x3-H2x3 ;;
  b)
    for s in L2-D96-F384x2-H4x2 L4-D96-F192x4-H2x4 L3-D96-F288x3-H4x3 L4-D96-F288x4-H2x4; do twin "$s"; done ;;
  *) echo "usage: more_data_runs.sh a|b" >&2; exit 2 ;;
esac
echo "$(date -u +%FT%TZ) done: $1"
