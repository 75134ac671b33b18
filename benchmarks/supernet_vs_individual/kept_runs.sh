#!/usr/bin/env bash
# One lane of the averaged-checkpoint comparison ("Averaged checkpoints on both sides" in
# README.md): takes jobs from the front of a queue file until it is empty, trains each run
# with every checkpoint kept, then decodes it (its step-3000 checkpoint and the mean of its
# last five) and records it in reruns.json beside this script at once, so that a machine
# lost with exp/ on it loses only the runs not yet recorded.
#
#   bash benchmarks/supernet_vs_individual/kept_runs.sh QUEUE_FILE [SCALE_LR_SCALE [wide]]   # one per core, same file
#
# With SCALE_LR_SCALE (the comparison at another ScaledAdam rate for tensor sizes; the config
# pins 1.0), every run trains with --set optim.scale_lr_scale=SCALE_LR_SCALE, in its own
# directories (exp/svi-cpu-scaleX-twin-seedN, exp/svi-cpu-scaleX-strat-seedN), and is
# recorded in reruns-scaleX.json instead of reruns.json. With wide as well ("Twice the width"),
# the same on configs/svi-cpu-wide.yaml, every subnet's widths doubled, in the directories of
# five_runs.sh wide (exp/svi-cpu-wide-scaleX-twin-seedN, exp/svi-cpu-wide-scaleX-strat-seedN),
# recorded in reruns-scaleX-wide.json; a supernet that five_runs.sh trained and read for six
# subnets is trained no further and read again for all ten.
#
# A queue line is "twin SEED SUBNET" or "recipe3 SEED". Lanes share the file under flock.
# A lane notes the job it took in QUEUE_FILE.taken; a lane that takes a job first puts back,
# at the front, every job whose lane is gone (killed with the session that started it), and
# that run resumes from its last checkpoint. A job whose run the record already holds is
# skipped, so a queue written anew after a lost machine trains only what the record lacks.
# KEPT_RUNS_DRY_SECONDS=N sleeps N s in place of each job (a check of the queue alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
queue=$(realpath "$1")
scale=${2:-}
variant=${3:-}
mkdir -p exp
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
FOUR="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4"
SIX="L4-D64-F384x4-H4x4 L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L2-D96-F384x2-H4x2 L4-D64-F192x4-H2x4"
COMMON="--corpus corpora/open-2h --config configs/svi-cpu.yaml --set max_steps=3000 --set num_threads=1 --quiet"
R3="--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true"
RERUNS="--eval-corpus corpora/open-2h-eval --step 3000 --last 5"

RECORD=reruns.json
if [ -n "$variant" ]; then
  [ "$variant" = wide ] && [ -n "$scale" ] || { echo "usage: kept_runs.sh QUEUE_FILE [SCALE_LR_SCALE [wide]]" >&2; exit 2; }
  FOUR="L2-D128-F384x2-H2x2 L3-D128-F576x3-H2x3 L3-D192-F576x3-H4x3 L4-D192-F768x4-H4x4"
  SIX="L4-D128-F768x4-H4x4 L3-D192-F768x3-H2x3 L4-D192-F384x4-H2x4 L4-D192-F576x4-H2x4 L2-D192-F768x2-H4x2 L4-D128-F384x4-H2x4"
  COMMON="--corpus corpora/open-2h --config configs/svi-cpu-wide.yaml --set max_steps=3000 --set num_threads=1 --quiet"
  COMMON="$COMMON --set optim.scale_lr_scale=$scale"
  RECORD=reruns-scale$scale-wide.json
  RERUNS="$RERUNS --record-file $RECORD"
  twin_dir() { echo "exp/svi-cpu-wide-scale$scale-twin-seed$1"; }
  strat_dir() { echo "exp/svi-cpu-wide-scale$scale-strat-seed$1"; }
elif [ -n "$scale" ]; then
  COMMON="$COMMON --set optim.scale_lr_scale=$scale"
  RECORD=reruns-scale$scale.json
  RERUNS="$RERUNS --record-file $RECORD"
  twin_dir() { echo "exp/svi-cpu-scale$scale-twin-seed$1"; }
  strat_dir() { echo "exp/svi-cpu-scale$scale-strat-seed$1"; }
else
  twin_dir() { if [ "$1" = 0 ]; then echo exp/svi-cpu-twin-seed0; else echo "exp/svi-cpu-kept-twin-seed$1"; fi; }
  strat_dir() { echo "exp/svi-cpu-strat-seed$1"; }
fi

taken=$queue.taken
lane_alive() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q kept_runs.sh; }

# under the queue's lock: put back the jobs of lanes that are gone, take the next one
claim() {
  local lk pid line keep=() back=()
  exec {lk}>>"$queue.lock"
  flock "$lk"
  if [ -f "$taken" ]; then
    while IFS=$'\t' read -r pid line; do
      [ -n "$line" ] || continue
      if lane_alive "$pid"; then keep+=("$pid"$'\t'"$line"); else back+=("$line"); fi
    done < "$taken"
    if [ ${#back[@]} -gt 0 ]; then
      { printf '%s\n' "${back[@]}"; cat "$queue"; } > "$queue.tmp" && mv "$queue.tmp" "$queue"
      echo "$(date -u +%FT%TZ) put back (their lanes are gone): ${back[*]}"
    fi
    if [ ${#keep[@]} -gt 0 ]; then printf '%s\n' "${keep[@]}" > "$taken"; else : > "$taken"; fi
  fi
  job=$(head -n1 "$queue")
  sed -i 1d "$queue"
  [ -z "$job" ] || printf '%s\t%s\n' "$$" "$job" >> "$taken"
  flock -u "$lk"
  exec {lk}>&-
}

# is the run of "twin SEED SUBNET" or "recipe3 SEED" (read for all ten subnets) in the record already?
recorded() {
  $PY -c '
import json, sys
from pathlib import Path
path, ten, job = Path(sys.argv[1]), set(sys.argv[2].split()), sys.argv[3:]
data = json.loads(path.read_text()) if path.exists() else {}
if len(job) == 3 and job[0] == "twin":
    runs = data.get("twins", {}).get(job[2], {})
elif len(job) == 2 and job[0] == "recipe3":
    runs = data.get("supernets", {}).get("recipe 3 (one random subnet per width)", {})
    runs = {seed: run for seed, run in runs.items() if ten <= set(run["subnets"])}
else:
    runs = {}
sys.exit(0 if len(job) > 1 and job[1] in runs else 1)' "$D/$RECORD" "$FOUR $SIX" "$@"
}

finished() { flock "$queue.lock" sed -i "/^$$\t/d" "$taken"; }

while true; do
  claim
  [ -n "$job" ] || break
  set -- $job
  if recorded $job; then finished; echo "$(date -u +%FT%TZ) skipped, already in $RECORD: $job"; continue; fi
  echo "$(date -u +%FT%TZ) start: $job"
  if [ -n "${KEPT_RUNS_DRY_SECONDS:-}" ]; then
    sleep "$KEPT_RUNS_DRY_SECONDS"; finished; echo "$(date -u +%FT%TZ) done: $job"; continue
  fi
  # decoded outside the lock (minutes), then recorded under it from the evaluations kept beside the run
  case "$1" in
    twin)
      out=$(twin_dir "$2")
      $PY $D/run.py $COMMON --out "$out" --set seed="$2" --part individual --subnets "$3"
      $PY $D/reruns.py $RERUNS --subnets "$3" --twins "$2=$out"
      flock exp/reruns.lock $PY $D/reruns.py $RERUNS --subnets "$3" --twins "$2=$out" --record ;;
    recipe3)
      out=$(strat_dir "$2")
      $PY $D/run.py $COMMON $R3 --out "$out" --set seed="$2" --part supernet
      $PY $D/reruns.py $RERUNS --subnets $FOUR $SIX \
          --supernet "recipe 3 (one random subnet per width)=$2:$out/supernet"
      flock exp/reruns.lock $PY $D/reruns.py $RERUNS --subnets $FOUR $SIX \
          --supernet "recipe 3 (one random subnet per width)=$2:$out/supernet" --record ;;
    *) finished; echo "bad queue line: $job" >&2; exit 2 ;;
  esac
  finished
  echo "$(date -u +%FT%TZ) done: $job"
done
