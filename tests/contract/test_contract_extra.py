"""``python -m contract_tests`` without its [contract] extra says what to install."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: ``python -m contract_tests`` in an environment where hypothesis is not importable
WITHOUT_HYPOTHESIS = (
    "import runpy, sys; sys.modules['hypothesis'] = None; sys.argv = ['contract_tests', '--report']; "
    "runpy._run_module_as_main('contract_tests')"
)


def test_missing_hypothesis_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_HYPOTHESIS], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert (
        "contract_tests needs hypothesis, which is not installed: pip install 'openai-async-harness[contract]'"
        in result.stderr
    )


def test_the_extra_brings_what_the_suite_imports() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {requirement.split(">")[0].split("[")[0].split("=")[0] for requirement in extras["contract"]}
    assert names == {"hypothesis", "pytest", "openai"}
