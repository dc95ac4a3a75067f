#!/usr/bin/env bash
# The whole regression suite, as CI runs it: install, lint, type-check, test.
# Usage: bash ci/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$py" -m pip install --quiet --disable-pip-version-check -e '.[dev]'

echo "== ruff"
"$py" -m ruff check .
"$py" -m ruff format --check .
echo "== mypy (strict: client, mockserver, contract_tests, bench, ci/sdk_failures.py)"
"$py" -m mypy
echo "== pytest"
"$py" -m pytest -n 2 "$@"
echo "== pytest: the client's tests again, on uvloop"
CLIENT_TEST_LOOP=uvloop "$py" -m pytest -n 2 -q tests/client
