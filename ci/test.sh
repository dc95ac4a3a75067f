#!/usr/bin/env bash
# The whole regression suite, as CI runs it: install, lint, type-check, test.
# Usage: bash ci/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# the shared-state tests start a real redis-server of their own on loopback
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing redis-server"
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is needed by the shared-state tests: install it (e.g. apt-get install redis-server)" >&2
    exit 1
  fi
fi

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
