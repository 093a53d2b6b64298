#!/usr/bin/env bash
# Make .venv-speed: chainclust plus PyTorch, the peer of benchmarks/bench_train_speed.py.
# PyTorch is never a dependency of chainclust; it lives only in this environment.
set -euo pipefail
cd "$(dirname "$0")/.."
python3.11 -m venv .venv-speed
export PIP_CONSTRAINT=$PWD/constraints.txt PIP_BUILD_CONSTRAINT=$PWD/constraints.txt
.venv-speed/bin/pip install -q -e '.[cpu]' 'numpy<1.27'
# torch 2.13.0 is the CPU build this project's machines keep on disk for Python 3.11
# (a plain `torch` from PyPI is a CUDA build of several GB). It asks for a newer
# setuptools than Chainer's import tolerates on NumPy 1.26 (numpy.distutils), and
# needs it only to compile C++ extensions: install it unconstrained, then pin back.
PIP_CONSTRAINT= .venv-speed/bin/pip install -q torch==2.13.0
.venv-speed/bin/pip install -q 'setuptools<70'
.venv-speed/bin/python -c 'import chainer, torch; print("chainer", chainer.__version__, "torch", torch.__version__)'
