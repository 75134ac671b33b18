#!/usr/bin/env bash
# Runs the test suite (the slow tests stay off; add `-m slow` for them).
# Installs first when needed, so it works on a fresh clone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
# ExecuTorch's exporter calls the flatc console script from the venv.
export PATH="$root/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -q "$@"
