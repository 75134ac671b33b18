#!/usr/bin/env bash
# Packs what a bare GPU machine lacks to run todm's training benchmark: the two speech
# synthesizers with every library they load, their voice data and Debian's fortunes (the
# open-vocabulary text), and the Python wheels absent from that machine's image
# (/work/.library/device/KINDS.md lists what it has: torch, numpy, pyyaml, tqdm,
# sentencepiece, tensorboard). Written to .device/ (ignored), about 26 MB, to be carried:
#
#   bash scripts/device_payload.sh            # here, after scripts/setup.sh
#   # there: carry [".device"], command "bash benchmarks/supernet_vs_individual/gpu_run.sh"
#
# The synthesizers are this machine's own Debian binaries with the libraries the dynamic
# linker resolves for them (ldd), rather than a dependency walk over packages: playback
# support pulls in PulseAudio's chain, which wav output never uses but the linker still
# wants. Debian 12's glibc (2.36) is older than the GPU image's, so they run there. Each
# runs through a wrapper that sets LD_LIBRARY_PATH for it alone, so that nothing in the
# Python process (torch's CUDA libraries) loads an older copy of a system library.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/.device
py_version=${DEVICE_PYTHON_VERSION:-3.12}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for tool in espeak-ng flite; do
  command -v "$tool" >/dev/null || { echo "device_payload: $tool is not installed; run scripts/setup.sh first" >&2; exit 1; }
done
espeak_data=$(dirname "$(dpkg -L espeak-ng-data | grep -m1 '/espeak-ng-data/phontab$')")
fortunes=/usr/share/games/fortunes
[ -d "$fortunes" ] || { echo "device_payload: $fortunes missing; run scripts/setup.sh first" >&2; exit 1; }

mkdir -p "$stage/synth/bin" "$stage/synth/lib" "$stage/synth/share"
for tool in espeak-ng flite; do
  cp "$(command -v "$tool")" "$stage/synth/bin/$tool.real"
  # glibc itself stays behind: the machine's own is newer and must be the one loaded
  ldd "$(command -v "$tool")" | awk '/=> \//{print $3}' \
    | grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' \
    | xargs -r -I{} cp -L -n {} "$stage/synth/lib/"
  cat > "$stage/synth/bin/$tool" <<EOF
#!/bin/sh
here=\$(dirname "\$(readlink -f "\$0")")/..
LD_LIBRARY_PATH="\$here/lib" ESPEAK_DATA_PATH="\$here/share" exec "\$here/bin/$tool.real" "\$@"
EOF
  chmod +x "$stage/synth/bin/$tool"
done
cp -r "$espeak_data" "$stage/synth/share/espeak-ng-data"
cp -r "$fortunes" "$stage/synth/share/fortunes"

rm -rf "$out"
mkdir -p "$out/whl"
tar -C "$stage" -cJf "$out/synth.tar.xz" synth
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
# the versions this project's venv pins or resolved, so both machines run the same code
pins=()
for pkg in soundfile cffi pycparser jiwer rapidfuzz; do
  pins+=("$pkg==$("$root/.venv/bin/python" -c "import importlib.metadata as m; print(m.version('$pkg'))")")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py_version" --implementation cp \
  "${platforms[@]}" -d "$out/whl" "${pins[@]}"
du -sh "$out"
echo "device_payload: wrote $out (synthesizers, fortunes, wheels: ${pins[*]})"
