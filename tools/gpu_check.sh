#!/usr/bin/env bash
# On a GPU machine: install the carried wheels (.whl/, from tools/gpu_wheels.sh)
# beside what the machine has (CuPy, NumPy, scikit-learn, ...), then run
# tools/gpu_check.py with the given arguments (e.g. --out "$OUT").
set -euo pipefail
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/chainclust-site .whl/*.whl
    export PYTHONPATH=/tmp/chainclust-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
exec python3 tools/gpu_check.py "$@"
