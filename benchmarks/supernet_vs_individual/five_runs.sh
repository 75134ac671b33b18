#!/usr/bin/env bash
# One lane of a one-seed check on the five width-96 subnets below the largest (README.md): recipe
# 3's seed SEED (2 unless named) and the twins of the five of the same seed, at the published
# rate (0.1), 3,000 steps each on one thread, then decoded on corpora/open-2h-eval as every
# other run (the mean of the last five checkpoints up to step 3,000), into the variant's
# reruns file.
#
#   10h  ("Five times the data"): trained on the 8.5 h of corpora/open-10h instead of the 1.7 h
#        of corpora/open-2h, into reruns-scale0.1-10h.json;
#   wide ("Twice the width"): configs/svi-cpu-wide.yaml, every width doubled (the five are then
#        the width-192 subnets below the largest), on corpora/open-2h, into reruns-scale0.1-wide.json;
#   ssm  ("The paper's encoder"): configs/svi-cpu.yaml with the multi-head SSM encoder
#        (model.encoder=ssm), on corpora/open-2h, into reruns-scale0.1-ssm.json; lane a also
#        trains the largest's twin, last.
#
#   todm data synth --out corpora/open-10h --domain open --hours 10 --exclude-text corpora/open-2h-eval/*.jsonl
#   bash benchmarks/supernet_vs_individual/five_runs.sh 10h a   # the supernet, then one twin
#   bash benchmarks/supernet_vs_individual/five_runs.sh 10h b   # four twins
#   .venv/bin/python benchmarks/supernet_vs_individual/more_data.py --record
#   bash benchmarks/supernet_vs_individual/five_runs.sh wide a 1   # "Twice the width, seed 1"
#   bash benchmarks/supernet_vs_individual/five_runs.sh ssm a      # "The paper's encoder"
#
# Every step resumes (training from the last checkpoint, decoding from the evaluations kept
# beside the checkpoints), so a lane killed with its session is started again as it was.
# DECODE=judged decodes only what the judged figure reads (test, the averaged reading) after
# each run, so that the judged figure comes first; the same lanes run again without it (every
# run then resumes at once) decode the rest, reusing what was decoded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
case "${1:-}" in
  10h)
    CORPUS=corpora/open-10h; CONFIG=configs/svi-cpu.yaml; NAME=svi-cpu-scale0.1-10h
    FIVE=(L2-D96-F384x2-H4x2 L3-D96-F288x3-H4x3 L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4)
    EXTRA=(); MODEL="" ;;
  wide)
    CORPUS=corpora/open-2h; CONFIG=configs/svi-cpu-wide.yaml; NAME=svi-cpu-wide-scale0.1
    FIVE=(L2-D192-F768x2-H4x2 L3-D192-F576x3-H4x3 L3-D192-F768x3-H2x3 L4-D192-F384x4-H2x4 L4-D192-F576x4-H2x4)
    EXTRA=(L4-D192-F768x4-H4x4); MODEL="" ;;   # the largest, read for the record (its twin is not trained)
  ssm)
    CORPUS=corpora/open-2h; CONFIG=configs/svi-cpu.yaml; NAME=svi-cpu-ssm-scale0.1
    FIVE=(L2-D96-F384x2-H4x2 L3-D96-F288x3-H4x3 L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4)
    EXTRA=(L4-D96-F384x4-H4x4); MODEL="--set model.encoder=ssm" ;;   # the largest, and its twin
  *) echo "usage: five_runs.sh 10h|wide|ssm a|b [SEED]" >&2; exit 2 ;;
esac
SEED=${3:-2}
COMMON="--corpus $CORPUS --config $CONFIG --set max_steps=3000 --set num_threads=1 --quiet \
    --set optim.scale_lr_scale=0.1 --set seed=$SEED $MODEL"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
LABEL="recipe 3 (one random subnet per width)"
STRAT=exp/$NAME-strat-seed$SEED
TWINS=exp/$NAME-twin-seed$SEED
READ="--eval-corpus corpora/open-2h-eval --last 5 --step 3000 --record --record-file reruns-scale0.1-$1.json"
if [ "${DECODE:-all}" = judged ]; then READ="$READ --splits test --readings averaged"; fi

twin() {
  $PY $D/run.py $COMMON --out $TWINS --part individual --subnets "$1"
  flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "$1" --twins "$SEED=$TWINS"
}

case "${2:-}" in
  a)
    $PY $D/run.py $COMMON $R3 --out $STRAT --part supernet
    flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "${FIVE[@]}" "${EXTRA[@]}" --supernet "$LABEL=$SEED:$STRAT/supernet"
    twin "${FIVE[2]}"
    if [ "$1" = ssm ]; then twin "${EXTRA[0]}"; fi ;;
  b)
    for s in "${FIVE[0]}" "${FIVE[3]}" "${FIVE[1]}" "${FIVE[4]}"; do twin "$s"; done ;;
  *) echo "usage: five_runs.sh 10h|wide|ssm a|b [SEED]" >&2; exit 2 ;;
esac
echo "$(date -u +%FT%TZ) done: $1 $2, seed $SEED"
