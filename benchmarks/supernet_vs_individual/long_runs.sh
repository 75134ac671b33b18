#!/usr/bin/env bash
# One lane of "Twice the steps, one seed" in README.md: recipe 3's seed 2 and its seed-2 twins
# of six subnets, at the published rate (0.1), trained to 6,000 steps instead of 3,000, then
# decoded at 6,000 (and at 3,000 wherever a run was trained afresh, to check that it retraced
# the recorded run).
#
#   bash benchmarks/supernet_vs_individual/long_runs.sh supernet   # one lane
#   bash benchmarks/supernet_vs_individual/long_runs.sh twins      # the other, then:
#   bash benchmarks/supernet_vs_individual/long_runs.sh extra [SUBNET...]  # two more twins (or these), from step 0
#
# Every step resumes: training from the run's last checkpoint, decoding from the evaluations
# kept beside the checkpoints; so a lane killed with its session is started again as it was,
# and a lane run again after it finished only reads what it has not read yet.
# "twins" continues the four recorded 3,000-step runs still on this machine
# (exp/svi-cpu-scale0.1-twin-seed2), copied first, so the recorded runs stay as they were;
# "extra" trains the two whose recorded runs were lost with an earlier machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
KEPT="L2-D96-F384x2-H4x2 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L4-D64-F192x4-H2x4"
EXTRA="L3-D96-F288x3-H4x3 L3-D96-F384x3-H2x3"
COMMON="--corpus corpora/open-2h --config configs/svi-cpu.yaml --set max_steps=6000 --set num_threads=1 --quiet \
    --set optim.scale_lr_scale=0.1 --set seed=2"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
LABEL="recipe 3 (one random subnet per width)"
STRAT=exp/svi-cpu-scale0.1-long-strat-seed2
TWINS=exp/svi-cpu-scale0.1-long-twin-seed2
READ="--eval-corpus corpora/open-2h-eval --last 5"
AT3000="--record --record-file reruns-scale0.1-long-at-3000.json"
AT6000="--record --record-file reruns-scale0.1-6000.json"

case "${1:-}" in
  supernet)
    $PY $D/run.py $COMMON $R3 --out $STRAT --part supernet
    flock exp/reruns.lock $PY $D/reruns.py $READ --subnets $KEPT $EXTRA --step 3000 \
        --supernet "$LABEL=2:$STRAT/supernet" $AT3000
    flock exp/reruns.lock $PY $D/reruns.py $READ --subnets $KEPT $EXTRA --step 6000 \
        --supernet "$LABEL=2:$STRAT/supernet" $AT6000 ;;
  twins)
    if [ ! -d $TWINS ]; then
      cp -a exp/svi-cpu-scale0.1-twin-seed2 $TWINS.tmp && mv $TWINS.tmp $TWINS
    fi
    for s in $KEPT; do
      $PY $D/run.py $COMMON --out $TWINS --part individual --subnets "$s"
      flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "$s" --step 6000 --twins "2=$TWINS" $AT6000
    done ;;
  extra)
    shift
    for s in ${*:-$EXTRA}; do
      $PY $D/run.py $COMMON --out $TWINS --part individual --subnets "$s"
      flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "$s" --step 3000 --twins "2=$TWINS" $AT3000
      flock exp/reruns.lock $PY $D/reruns.py $READ --subnets "$s" --step 6000 --twins "2=$TWINS" $AT6000
    done ;;
  *) echo "usage: long_runs.sh supernet|twins|extra [SUBNET...]" >&2; exit 2 ;;
esac
echo "$(date -u +%FT%TZ) done: $1"
