#!/usr/bin/env bash
# The comparison on a GPU, as one command on a bare lent GPU machine (the `device` tool):
# the same recipe as the CPU runs (configs/svi-cpu.yaml, recipe 3's supernet against the
# four twins), unchanged but for the device it finds and ScaledAdam's published rate for
# tensor sizes (0.1; the config pins the 1.0 of the first CPU comparison), on the same
# corpus made there.
#
#   bash scripts/device_payload.sh          # here, once: .device/ (synthesizers, wheels)
#   device run, carry [".device"], timeout_s 600:
#     bash benchmarks/supernet_vs_individual/gpu_run.sh
#
# Phases, each writing what it has to $OUT before the next starts, so a run cut short
# still returns what it reached:
#   1. unpack the synthesizers and wheels, record the machine, and compare torchaudio's
#      CUDA RNN-T loss, which training takes there, with todm's (gpu_checks.py);
#   2. make corpora/open-2h and open-2h-eval with the CPU runs' commands, and check
#      their manifests against corpus-sha256.txt (the CPU runs' corpus, byte for byte);
#   3. train the supernet and the four twins side by side on the one GPU for
#      GPU_RUN_TRAIN_SECONDS (each stops at max_steps or the deadline, whichever first);
#   4. time every recipe's step side by side on the idle GPU (the cost probe);
#   5. decode every run at the last step all of them reached, one core per decode, and
#      report with run.py (results.md, results.json); gpu_summary.py sums it up.
# Knobs (environment): GPU_RUN_TRAIN_SECONDS (240), GPU_RUN_STEPS (3000), GPU_RUN_HOURS (2),
# GPU_RUN_SCALE_LR_SCALE (0.1),
# GPU_RUN_EVAL_UTTS (2000), GPU_RUN_PROBE_STEPS (30), GPU_RUN_WORK (/tmp/todm-gpu-run),
# PYTHON (python3), GPU_RUN_WHEELS (1: install .device/whl; 0 where todm's venv runs it).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
D=benchmarks/supernet_vs_individual
work=${GPU_RUN_WORK:-/tmp/todm-gpu-run}
out=${OUT:-$work/out}
train_seconds=${GPU_RUN_TRAIN_SECONDS:-240}
max_steps=${GPU_RUN_STEPS:-3000}
hours=${GPU_RUN_HOURS:-2}
eval_utts=${GPU_RUN_EVAL_UTTS:-2000}
probe_steps=${GPU_RUN_PROBE_STEPS:-30}
scale_lr_scale=${GPU_RUN_SCALE_LR_SCALE:-0.1}
py=${PYTHON:-python3}
FOUR="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4"
mkdir -p "$work/logs" "$out"
t0=$(date +%s)
log() { echo "[$(($(date +%s) - t0)) s] $*" | tee -a "$out/gpu-run.log"; }
finish() {
  log "summary"
  "$py" $D/gpu_summary.py summary --work "$work" --out "$out/gpu-run.json" > /dev/null || log "summary failed"
  # what the runs logged, for reading back here (the tool returns at most 8 files)
  tar -C "$work" -czf "$out/runs.tar.gz" logs $(cd "$work" && ls -d exp/*/metrics.csv exp/*/config.yaml \
    exp/*/eval-*.json exp/step-costs.json 2>/dev/null) || true
  for f in results.md results.json results-utterances.json; do [ -f "$work/exp/$f" ] && cp "$work/exp/$f" "$out/"; done
  log "done"
}
trap finish EXIT

log "1. payload"
# Python unpacks it: a bare image need not have xz for tar -J
[ -d "$work/synth" ] || "$py" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='tar')" \
  .device/synth.tar.xz "$work"
export PATH="$work/synth/bin:$PATH"
if [ ! -d /usr/share/games/fortunes ]; then  # todm reads Debian's fortunes from their usual place
  mkdir -p /usr/share/games && ln -s "$work/synth/share/fortunes" /usr/share/games/fortunes
fi
if [ "${GPU_RUN_WHEELS:-1}" = 1 ]; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$work/site" .device/whl/*.whl
  export PYTHONPATH="$repo:$work/site"
else
  export PYTHONPATH="$repo"
fi
export PYTHONUNBUFFERED=1
nvidia-smi > "$work/logs/nvidia-smi.txt" 2>&1 || true
"$py" -c "import json, sys; sys.path.insert(0, '$D'); from gpu_summary import machine; print(json.dumps(machine()))" \
  | tee -a "$out/gpu-run.log"
"$py" $D/gpu_checks.py --out "$work/gpu-checks.json" >> "$out/gpu-run.log" 2>&1 || log "GPU checks failed"

log "2. corpora ($hours h, $eval_utts evaluation utterances)"
"$py" -m todm.cli data synth --out "$work/corpora/open-2h" --domain open --hours "$hours" --quiet
"$py" -m todm.cli data synth --out "$work/corpora/open-2h-eval" --num-utts "$eval_utts" --dev-fraction 0 \
  --test-fraction 0.47 --unseen-fraction 0.47 --exclude-text "$work"/corpora/open-2h/*.jsonl --quiet
(cd "$work/corpora" && sha256sum -c "$repo/$D/corpus-sha256.txt" > "$work/corpus-check.txt" 2>&1) || true
log "corpus check: $(grep -c ': OK$' "$work/corpus-check.txt") of $(wc -l < "$D/corpus-sha256.txt") manifests identical to the CPU runs'"

log "3. training, side by side, at most ${train_seconds} s"
common=(--corpus "$work/corpora/open-2h" --config configs/svi-cpu.yaml --out "$work/exp" --set "max_steps=$max_steps" \
  --set "optim.scale_lr_scale=$scale_lr_scale" --quiet)
r3=(--set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true)
pids=()
timeout "$train_seconds" "$py" $D/run.py "${common[@]}" "${r3[@]}" --part supernet > "$work/logs/supernet.log" 2>&1 &
pids+=($!)
for s in $FOUR; do
  timeout "$train_seconds" "$py" $D/run.py "${common[@]}" --part individual --subnets "$s" > "$work/logs/$s.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
step=$("$py" $D/gpu_summary.py common-step "$work/exp")
log "every run has a checkpoint of step $step"
[ "$step" -gt 0 ] || { log "no step that every run reached; see logs/"; exit 1; }

log "4. step cost probe, $probe_steps steps"
"$py" $D/run.py "${common[@]}" "${r3[@]}" --part cost-probe --probe-steps "$probe_steps" --subnets $FOUR \
  > "$work/logs/cost-probe.log" 2>&1 || log "cost probe failed"

log "5. decoding at step $step"
"$py" $D/parallel_decode.py --out "$work/exp" --eval-corpus "$work/corpora/open-2h-eval" --step "$step" \
  --subnets $FOUR > "$work/logs/decode.log" 2>&1
"$py" $D/run.py "${common[@]}" "${r3[@]}" --part report --eval-corpus "$work/corpora/open-2h-eval" --step "$step" \
  --subnets $FOUR > "$work/logs/report.log" 2>&1
