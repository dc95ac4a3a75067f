"""Plugin tests run pytest inside pytest (``pytester``): each test writes a small test module and runs it."""

from __future__ import annotations

import httpx  # noqa: F401 - imported here once: in-process pytester runs drop the modules they import themselves
import openai  # noqa: F401
import pytest

pytest_plugins = ["pytester"]

INNER_INI = """
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
filterwarnings = error
{extra}
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory with an ini like a downstream project's (asyncio auto mode, warnings are errors)."""
    pytester.makeini(INNER_INI.format(mode="auto", extra=""))
    return pytester


@pytest.fixture
def inner_strict(pytester: pytest.Pytester) -> pytest.Pytester:
    """The same in pytest-asyncio's strict mode (async tests and fixtures must be marked)."""
    pytester.makeini(INNER_INI.format(mode="strict", extra=""))
    return pytester
