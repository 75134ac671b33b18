#!/usr/bin/env bash
# One lane of the averaged-checkpoint comparison ("Averaged checkpoints on both sides" in
# README.md): takes jobs from the front of a queue file until it is empty, trains each run
# with every checkpoint kept, then decodes it (its step-3000 checkpoint and the mean of its
# last five) and records it in reruns.json beside this script at once, so that a machine
# lost with exp/ on it loses only the runs not yet recorded.
#
#   bash benchmarks/supernet_vs_individual/kept_runs.sh QUEUE_FILE   # one per core, same file
#
# A queue line is "twin SEED SUBNET" or "recipe3 SEED". Lanes share the file under flock;
# a killed lane's run resumes from its last checkpoint when its line is put back first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
queue=$(realpath "$1")
mkdir -p exp
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
FOUR="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4"
SIX="L4-D64-F384x4-H4x4 L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L2-D96-F384x2-H4x2 L4-D64-F192x4-H2x4"
COMMON="--corpus corpora/open-2h --config configs/svi-cpu.yaml --set max_steps=3000 --set num_threads=1 --quiet"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
RERUNS="--eval-corpus corpora/open-2h-eval --step 3000 --last 5"

twin_dir() { if [ "$1" = 0 ]; then echo exp/svi-cpu-twin-seed0; else echo "exp/svi-cpu-kept-twin-seed$1"; fi; }

while true; do
  job=$(flock "$queue.lock" sh -c 'head -n1 "$1"; sed -i 1d "$1"' _ "$queue")
  [ -n "$job" ] || break
  set -- $job
  echo "$(date -u +%FT%TZ) start: $job"
  # decoded outside the lock (minutes), then recorded under it from the evaluations kept beside the run
  case "$1" in
    twin)
      out=$(twin_dir "$2")
      $PY $D/run.py $COMMON --out "$out" --set seed="$2" --part individual --subnets "$3"
      $PY $D/reruns.py $RERUNS --subnets "$3" --twins "$2=$out"
      flock exp/reruns.lock $PY $D/reruns.py $RERUNS --subnets "$3" --twins "$2=$out" --record ;;
    recipe3)
      out=exp/svi-cpu-strat-seed$2
      $PY $D/run.py $COMMON $R3 --out "$out" --set seed="$2" --part supernet
      $PY $D/reruns.py $RERUNS --subnets $FOUR $SIX \
          --supernet "recipe 3 (one random subnet per width)=$2:$out/supernet"
      flock exp/reruns.lock $PY $D/reruns.py $RERUNS --subnets $FOUR $SIX \
          --supernet "recipe 3 (one random subnet per width)=$2:$out/supernet" --record ;;
    *) echo "bad queue line: $job" >&2; exit 2 ;;
  esac
  echo "$(date -u +%FT%TZ) done: $job"
done
