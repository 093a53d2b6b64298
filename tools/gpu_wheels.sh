#!/usr/bin/env bash
# Build here the wheels a lent GPU machine lacks (it has no package index):
# chainer 7.8.1 (pure Python, an sdist on PyPI) and chainclust itself, into .whl/.
# Then carry .whl to the machine and run tools/gpu_check.sh there (DEVELOPERS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
rm -rf .whl && mkdir -p .whl
export PIP_CONSTRAINT=$PWD/constraints.txt PIP_BUILD_CONSTRAINT=$PWD/constraints.txt
python3 -m pip wheel -q --no-deps -w .whl chainer==7.8.1 .
ls -l .whl
