#!/usr/bin/env bash
# The official SDK's own generated tests (tests/api_resources, shipped in the openai sdist) for the endpoints the fake
# serves, run against the fake; the failures are classified and the job fails if any is caused by a model name.
# The SDK's code is not kept in this repository: its sdist is downloaded here, at CI time.
# Usage: bash ci/sdk_api_resources.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

venv="${VENV_SDK_TESTS:-.venv-sdk-tests}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$repo/$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
# what the SDK's tests import (its dev group), beside the fake and the SDK itself
"$py" -m pip install --quiet --disable-pip-version-check -e . 'openai[aiohttp]>=3,<4' 'pytest>=9' 'pytest-asyncio>=1.4' \
  'pytest-xdist>=3.6' 'rich>=13.7' 'inline-snapshot>=0.28' 'dirty-equals>=0.8'
version="$("$py" -c 'import openai; print(openai.__version__)')"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$py" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: "openai==$version" -d "$work"
tar xzf "$work/openai-$version.tar.gz" -C "$work"
sdk="$work/openai-$version"

"$py" -m mockserver serve --port 0 >"$work/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 300); do  # at most 30 s for the server to say where it listens
  url="$(grep -o 'http://127.0.0.1:[0-9]*/v1' "$work/serve.log" | head -n 1 || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the fake did not start within 30 s:" >&2; cat "$work/serve.log" >&2; exit 1
fi

echo "== openai $version tests/api_resources against the fake at $url"
cd "$sdk"
TEST_API_BASE_URL="$url" "$py" -m pytest -p no:mock_openai -p no:cacheprovider -o addopts= -n 2 -q --tb=no \
  --junitxml="$work/results.xml" \
  tests/api_resources/test_embeddings.py tests/api_resources/test_completions.py tests/api_resources/chat \
  tests/api_resources/test_models.py tests/api_resources/test_files.py tests/api_resources/test_batches.py \
  tests/api_resources/fine_tuning tests/api_resources/test_responses.py tests/api_resources/responses \
  "$@" >"$work/pytest.log" 2>&1 || true
echo "the SDK's own run (failures expected: placeholder ids, routes the fake does not serve): $(tail -n 1 "$work/pytest.log")"
"$py" "$repo/ci/sdk_failures.py" "$work/results.xml"
