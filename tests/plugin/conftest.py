"""Plugin tests run pytest inside pytest (``pytester``): each test writes a small test module and runs it."""

from __future__ import annotations

# In-process pytester runs drop, when they end, every module first imported during the run. A library imported
# lazily there would be imported again afterwards as new module objects, while others still hold the old ones:
# httpx2 caches httpcore2's exception classes on first use, and an httpcore2 error from the new module then
# escapes its mapping (an unwrapped RemoteProtocolError in a later test of the same process). So everything the
# inner runs use is imported here, once, before any of them.
import httpcore  # noqa: F401
import httpcore2  # noqa: F401
import httptools  # noqa: F401
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import respx  # noqa: F401
import truststore  # noqa: F401
import uvicorn.protocols.http.httptools_impl  # noqa: F401
import uvloop  # noqa: F401

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
