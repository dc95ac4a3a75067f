#!/usr/bin/env bash
# The server's SDK-driven tests and the contract suite again, with the last httpx-based official SDK (openai 2.x)
# instead of 3.x.
# Usage: bash ci/compat_openai2.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${VENV_OPENAI2:-.venv-openai2}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$py" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# replaces openai 3.x; pip notes that our dev extra asks for 3.x, which is the point of this job
"$py" -m pip install --quiet --disable-pip-version-check 'openai[aiohttp]>=2.50,<3' 2>&1 | grep -v 'dependency conflicts\|requires openai' || true
"$py" -c 'import openai; print("== pytest tests/mockserver tests/azure tests/downstream contract_tests with openai", openai.__version__)'
"$py" -m pytest -n 2 tests/mockserver tests/azure tests/downstream contract_tests "$@"
