#!/usr/bin/env bash
# Three times the steps, one seed (README.md, "Three times the steps"): the runs of "Twice the
# steps" trained on from 6,000 to 9,000 steps, two lanes of one thread each, then read.
#   bash benchmarks/supernet_vs_individual/long_runs_9000.sh a     # the supernet, then one twin
#   bash benchmarks/supernet_vs_individual/long_runs_9000.sh b     # the other five twins
#   bash benchmarks/supernet_vs_individual/long_runs_9000.sh read  # once both lanes are done
# Training resumes from each run's last checkpoint (same schedule and data order as if it had
# been asked for 9,000 steps from the start), so a lane killed with its session is started
# again as it was. Nothing is decoded beside a training lane: a 2-thread decode next to a
# 1-thread training process runs many times slower ("spread-depth-times.txt").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
COMMON="--corpus corpora/open-2h --config configs/svi-cpu.yaml --set max_steps=9000 --set num_threads=1 --quiet \
    --set optim.scale_lr_scale=0.1 --set seed=2"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
LABEL="recipe 3 (one random subnet per width)"
STRAT=exp/svi-cpu-scale0.1-long-strat-seed2
TWINS=exp/svi-cpu-scale0.1-long-twin-seed2
ALL="L2-D96-F384x2-H4x2 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L4-D64-F192x4-H2x4 L3-D96-F288x3-H4x3 L3-D96-F384x3-H2x3"

twin() { $PY $D/run.py $COMMON --out $TWINS --part individual --subnets "$1"; }

case "${1:-}" in
  a) $PY $D/run.py $COMMON $R3 --out $STRAT --part supernet
     twin L3-D96-F384x3-H2x3 ;;
  b) for s in L2-D96-F384x2-H4x2 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L4-D64-F192x4-H2x4 L3-D96-F288x3-H4x3; do
       twin "$s"
     done ;;
  read)
    $PY $D/reruns.py --eval-corpus corpora/open-2h-eval --last 5 --subnets $ALL --step 9000 \
        --supernet "$LABEL=2:$STRAT/supernet" --twins "2=$TWINS" --record --record-file reruns-scale0.1-9000.json ;;
  *) echo "usage: long_runs_9000.sh a|b|read" >&2; exit 2 ;;
esac
echo "$(date -u +%FT%TZ) done: $1"
