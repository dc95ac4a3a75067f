"""The suite from the command line, end to end: ``pytest contract_tests --contract-client module:factory`` fails
naming the violated property, and ``python -m contract_tests --report`` prints the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)


def test_pytest_option_runs_a_brought_client_and_names_the_violated_property() -> None:
    result = _run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "contract_tests",
        "--contract-client",
        "tests.contract.broken_clients:retries_400",
        "-k",
        "retries and policy",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "contract property 'retries.policy' violated" in result.stdout
    assert "replay the failing example with this scenario file" in result.stdout
    assert "1 failed" in result.stdout


def test_an_unknown_client_is_a_usage_error() -> None:
    result = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", "contract_tests", "--contract-client", "nope")
    assert result.returncode == 4
    assert "unknown contract client 'nope'" in result.stderr


@pytest.mark.parametrize("profile", ["dev"])
def test_report_prints_the_table_for_the_chosen_clients(profile: str, tmp_path: Path) -> None:
    markdown = tmp_path / "conformance.md"
    result = _run(
        "-m",
        "contract_tests",
        "--report",
        "--contract-client",
        "client-httpx,tests.contract.broken_clients:stops_paging_early",
        "--property",
        "pagination",
        "--profile",
        profile,
        "--markdown",
        str(markdown),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["property", "client-httpx", "tests.contract.broken_clients:stops_paging_early"]
    assert lines[2].split() == ["pagination.every_item_once", "pass", "FAIL"]
    assert "FAIL pagination.every_item_once" in result.stdout
    assert markdown.read_text(encoding="utf-8").startswith("| property | client-httpx |")
