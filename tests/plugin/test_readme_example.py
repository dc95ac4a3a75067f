"""The README's "Use it in your tests" example runs as written, as a downstream project would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Use it in your tests", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section holds one example"
    return str(blocks[0])


def test_the_readme_plugin_example_passes(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_app=readme_example())
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
