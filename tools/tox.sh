#!/usr/bin/env bash
# Set up tox in its own virtual environment (.venv-tox) and run it with the
# given arguments. Used by the README's two commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_pyenv.sh
if [ ! -x .venv-tox/bin/tox ]; then
    python3.11 -m venv .venv-tox 2>/dev/null || python3 -m venv .venv-tox
    .venv-tox/bin/python -m pip install -q --upgrade pip
    .venv-tox/bin/python -m pip install -q 'tox>=4.11'
fi
exec .venv-tox/bin/tox "$@"
