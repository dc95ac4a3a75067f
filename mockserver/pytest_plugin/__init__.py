"""The pytest plugin (entry point ``mock_openai``): the fake OpenAI server as fixtures.

Fixtures:

- ``mock_openai`` - a :class:`MockOpenAI` handle on a real server (uvicorn on 127.0.0.1, a free port) with
  ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` set for the test, so ``AsyncOpenAI()`` with no arguments reaches it;
  script faults with ``mock_openai.on(...)``, assert on ``mock_openai.attempts(path)``.
- ``mock_openai_base_url`` - just the URL (``http://127.0.0.1:<port>/v1``).
- ``mock_openai_server`` - the session's running ``MockServer`` (one per pytest-xdist worker).
- ``mock_openai_inprocess`` - an :class:`InProcessMockOpenAI` handle: clients that call the ASGI app directly.
- ``mock_openai_respx`` - a ``respx`` router sending ``api.openai.com`` to the app (httpx-based clients).

Rules, the journal and stored objects are reset before every test that uses one of them, then the
``@pytest.mark.mock_openai(rules=..., latency=..., seed=..., replies=...)`` marker is applied. Settings:
``--mock-openai-seed`` / ``mock_openai_seed`` and friends (``pytest --help``); the command line wins.

The plugin costs nothing in a test run that does not use it: the server starts when a fixture first asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..inprocess import (
    INPROCESS_BASE_URL,
    inprocess_httpx2_client,
    inprocess_httpx_client,
    inprocess_openai_client,
    route_to_app,
)
from ..recording.cassette import CassetteError
from ..recording.settings import RecordingSettings
from ..server import MockServer
from .cassettes import CassetteOptions, add_cassette_options, cassette_recording, read_cassette_options
from .handle import InProcessMockOpenAI, MockOpenAI
from .marker import MARKER_HELP, MARKER_NAME, MarkerError, MarkerSettings, read_marker
from .options import PluginSettings, add_options, read_settings

if TYPE_CHECKING:
    import respx

__all__ = [
    "InProcessMockOpenAI",
    "MockOpenAI",
    "inprocess_httpx2_client",
    "inprocess_httpx_client",
    "inprocess_openai_client",
    "mock_openai",
    "mock_openai_base_url",
    "mock_openai_inprocess",
    "mock_openai_respx",
    "mock_openai_server",
    "route_to_app",
]

_SETTINGS = pytest.StashKey[PluginSettings]()
_CASSETTES = pytest.StashKey[CassetteOptions]()
#: the fixture every other one builds on; its presence in a test's closure means "reset before this test"
_INSTANCE = "_mock_openai_instance"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_cassette_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_SETTINGS] = read_settings(config)
    config.stash[_CASSETTES] = read_cassette_options(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [config.stash[_SETTINGS].describe(), config.stash[_CASSETTES].describe()]


@pytest.fixture(scope="session")
def _mock_openai_instance(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's fake, built but not started (in-process use needs no socket); stopped at the end."""
    server = MockServer(pytestconfig.stash[_SETTINGS].config)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mock_openai_server(_mock_openai_instance: MockServer) -> MockServer:
    """The session's fake OpenAI server, running on 127.0.0.1 and a free port (one per xdist worker)."""
    return _mock_openai_instance.start()


@pytest.fixture(autouse=True)
def _mock_openai_per_test(request: pytest.FixtureRequest) -> None:
    """Reset the fake and apply the test's marker - only for tests that use the fake."""
    marker = request.node.get_closest_marker(MARKER_NAME)
    if marker is None and _INSTANCE not in request.fixturenames:
        return
    wanted = _marker_settings(marker)
    recording = None
    if wanted.cassette is not None:
        options = request.config.stash[_CASSETTES]
        recording = cassette_recording(request.node.path, wanted.cassette, wanted.replay_speed, options)
    server: MockServer = request.getfixturevalue(_INSTANCE)
    _prepare(server, wanted, recording)
    if marker is not None and "mock_openai_inprocess" not in request.fixturenames:
        request.getfixturevalue("mock_openai")  # a marked test talks to the fake through the environment


def _marker_settings(marker: pytest.Mark | None) -> MarkerSettings:
    """The marker's settings; a bad marker fails the test with the message alone (no traceback)."""
    try:
        return read_marker(marker)
    except MarkerError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


def _prepare(server: MockServer, wanted: MarkerSettings, recording: RecordingSettings | None = None) -> None:
    """The session's config with the marker's changes (and the test's cassette), then a reset that starts the
    test from it; a corrupt cassette fails the test with its file, place and problem."""
    config = wanted.applied_to(server.config)
    server.state.config = config.model_copy(update={"recording": recording}) if recording is not None else config
    try:
        server.reset()
    except CassetteError as exc:
        problem = str(exc)
    else:
        return
    server.state.config = server.config
    server.reset()
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def mock_openai(
    mock_openai_server: MockServer, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> MockOpenAI:
    """A handle on the running fake, with ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` pointing at it for the test."""
    handle = MockOpenAI(
        mock_openai_server,
        base_url=mock_openai_server.base_url,
        api_key=pytestconfig.stash[_SETTINGS].client_api_key,
    )
    monkeypatch.setenv("OPENAI_BASE_URL", handle.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", handle.api_key)
    return handle


@pytest.fixture
def mock_openai_base_url(mock_openai_server: MockServer) -> str:
    """The running fake's base URL for a client (``http://127.0.0.1:<port>/v1``)."""
    return mock_openai_server.base_url


@pytest.fixture
def mock_openai_inprocess(_mock_openai_instance: MockServer, pytestconfig: pytest.Config) -> InProcessMockOpenAI:
    """A handle whose clients call the fake's ASGI app directly (no socket, no server thread)."""
    return InProcessMockOpenAI(
        _mock_openai_instance, base_url=INPROCESS_BASE_URL, api_key=pytestconfig.stash[_SETTINGS].client_api_key
    )


@pytest.fixture
def mock_openai_respx(
    mock_openai_inprocess: InProcessMockOpenAI, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[respx.MockRouter]:
    """A started ``respx`` router that sends every request for ``api.openai.com`` to the fake in-process.

    For httpx-based clients (openai 1.x / 2.x, our ``client`` on httpx) that keep their default base URL; the
    environment gets ``OPENAI_API_KEY`` and loses ``OPENAI_BASE_URL`` (unless the test also uses ``mock_openai``).
    """
    try:
        import respx
    except ModuleNotFoundError:
        pytest.fail("the mock_openai_respx fixture needs respx: pip install respx", pytrace=False)

    if "mock_openai" not in request.fixturenames:  # else the socket server's environment stays
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", mock_openai_inprocess.api_key)
    with respx.mock(assert_all_called=False) as router:
        mock_openai_inprocess.route(router)
        yield router
