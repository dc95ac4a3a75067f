"""A downstream project (``project/``: an app whose ``AsyncOpenAI()`` is built at import, its own conftest and
tests) run with the installed plugin in a fresh pytest process, with a realistic key in the environment: the app's
tests reach the fake, explicit real URLs fail at once with the plugin's message, and the interpreter's own audit
events show no lookup of, and no connection to, anything but loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "project"
REAL_LOOKING_KEY = "sk-proj-" + "Q7x" * 16
_OWN_VARIABLES = ("OPENAI_", "AZURE_OPENAI_", "PYTEST_", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def _environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith(_OWN_VARIABLES)}
    env["OPENAI_API_KEY"] = REAL_LOOKING_KEY
    return env


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_downstream_project(tmp_path: Path, workers: list[str]) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-rf", *workers],
        cwd=project,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert "3 passed" in output, output
    assert "2 failed" in output, output
    for name in ("test_explicit_real_base_url_fails_fast", "test_explicit_real_base_url_fails_fast_on_aiohttp"):
        assert f"FAILED tests/test_app.py::{name}" in output
        assert f"test tests/test_app.py::{name} tried to reach api.openai.com:443" in output
    assert "(through httpx2, openai 3.x's default)" in output or "(through httpx)" in output
    assert "(through aiohttp)" in output
    assert "APIConnectionError" not in output  # not retried, not turned into a connection error
    assert REAL_LOOKING_KEY not in output
    written = {path.name: json.loads(path.read_text()) for path in project.glob("network-*.json")}
    # every process that ran tests (and the xdist controller, which ran none) left its record
    assert set(written) == (
        {"network-main.json", "network-gw0.json", "network-gw1.json"} if workers else {"network-main.json"}
    )
    records = [record for name, record in written.items() if name != "network-main.json" or not workers]
    for record in records:
        assert record["base_url"].startswith("http://127.0.0.1:")
        assert set(record["lookups"]) <= {"127.0.0.1", "localhost"}, record
        assert set(record["connects"]) <= {"127.0.0.1"}, record
