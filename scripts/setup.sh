#!/usr/bin/env bash
# Installs everything todm needs on a fresh Debian/Ubuntu machine, then stays out of the way:
#   bash scripts/setup.sh            # system packages (when missing), .venv, todm[all]
#   TODM_EXTRAS=runtime bash scripts/setup.sh   # a device: numpy + onnxruntime, no torch
# Re-running is cheap: pip is skipped while pyproject.toml is unchanged.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
extras=${TODM_EXTRAS:-all}
python=${PYTHON:-python3}

apt_packages=(espeak-ng flite fortunes fortunes-min openssh-server openssh-client)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

stamp=.venv/.todm-installed
want="$extras $(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing todm[$extras] into .venv (first time: a few minutes)"
  # torch first and pinned, so that pip takes the CPU wheel (STACK.md) and nothing pulls a CUDA build.
  if [ "$extras" != "runtime" ]; then
    .venv/bin/python -m pip install -q "torch==2.13.0"
  fi
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$want" > "$stamp"
fi
echo "setup: ready (.venv/bin/todm)"
