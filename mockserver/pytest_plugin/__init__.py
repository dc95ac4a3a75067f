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

Nothing leaves (unless ``--mock-openai-allow-network``): before any conftest or test module is imported, each
process that runs tests points ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``AZURE_OPENAI_ENDPOINT``,
``AZURE_OPENAI_API_KEY`` and ``OPENAI_API_VERSION`` at a port reserved for the fake
(:mod:`.session_environment`), and the :mod:`.network_guard` fails any lookup of an OpenAI or Azure OpenAI host
at once, naming the test.

The plugin costs little in a test run that does not use it: a reserved port; the server starts when a fixture
first asks.
"""

from __future__ import annotations

import os
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
from .network_guard import NetworkGuard, RealNetworkCallBlocked, blocked_hosts
from .options import PluginSettings, add_options, read_settings
from .respx_usage import RespxUsageError, refuse_httpx2
from .session_environment import SessionEnvironment

if TYPE_CHECKING:
    import respx

__all__ = [
    "InProcessMockOpenAI",
    "MockOpenAI",
    "RealNetworkCallBlocked",
    "RespxUsageError",
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

# the handles print as the plugin's (``mockserver.pytest_plugin.MockOpenAI``), where users import them from
MockOpenAI.__module__ = InProcessMockOpenAI.__module__ = __name__

_SETTINGS = pytest.StashKey[PluginSettings]()
_ENVIRONMENT = pytest.StashKey[SessionEnvironment]()
_GUARD = pytest.StashKey[NetworkGuard]()
_CASSETTES = pytest.StashKey[CassetteOptions]()
#: the fixture every other one builds on; its presence in a test's closure means "reset before this test"
_INSTANCE = "_mock_openai_instance"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_cassette_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Point the clients at the fake and guard the network before the first conftest is imported."""
    if _is_xdist_controller(early_config):
        return  # its workers run the tests, each with its own environment and guard
    try:
        settings = read_settings(early_config, early=True)
    except pytest.UsageError:
        return  # pytest_configure reports it
    if settings.allow_network:
        return
    environment = SessionEnvironment(api_key=settings.client_api_key)
    real = blocked_hosts(os.environ.get("OPENAI_BASE_URL"), os.environ.get("AZURE_OPENAI_ENDPOINT"))
    guard = NetworkGuard(extra=real, advice=lambda: _advice(environment))
    guard.install()
    early_config.add_cleanup(guard.uninstall)
    environment.apply()
    early_config.add_cleanup(environment.restore)
    early_config.stash[_ENVIRONMENT], early_config.stash[_GUARD] = environment, guard


def _is_xdist_controller(config: pytest.Config) -> bool:
    """``-n N`` in a process that is not one of xdist's workers (they see ``-n`` too, and xdist names them in
    ``PYTEST_XDIST_WORKER`` before their pytest starts): it hands the tests to workers and runs none."""
    given = bool(getattr(config.known_args_namespace, "numprocesses", None))
    return given and "PYTEST_XDIST_WORKER" not in os.environ


def _advice(environment: SessionEnvironment) -> str:
    return (
        "Point that client at the fake: build it without base_url / azure_endpoint (OPENAI_BASE_URL is "
        f"{environment.root_url}/v1 and AZURE_OPENAI_ENDPOINT {environment.root_url} for this session), or pass "
        "base_url=mock_openai.base_url from the mock_openai fixture."
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_SETTINGS] = read_settings(config)
    environment = config.stash.get(_ENVIRONMENT, None)
    cassettes = read_cassette_options(config, None if environment is None else environment.real(os.environ))
    config.stash[_CASSETTES] = cassettes
    guard = config.stash.get(_GUARD, None)
    if guard is not None and cassettes.record_mode != "none" and cassettes.upstream is not None:
        guard.allow(cassettes.upstream)  # recording from it is what the user asked for


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """The guard names the running test."""
    guard = item.config.stash.get(_GUARD, None)
    if guard is None:
        return (yield)
    guard.current_test = item.nodeid
    try:
        return (yield)
    finally:
        guard.current_test = None


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [config.stash[_SETTINGS].describe(), config.stash[_CASSETTES].describe()]
    environment = config.stash.get(_ENVIRONMENT, None)
    if environment is not None:
        lines.append(
            f"mock_openai: network guard on (OpenAI and Azure OpenAI hosts); OPENAI_BASE_URL and "
            f"AZURE_OPENAI_ENDPOINT point at {environment.root_url} for the session"
        )
        guard = config.stash.get(_GUARD, None)
        if guard is not None and guard.allowed:
            lines.append(f"mock_openai: the guard lets through {', '.join(sorted(guard.allowed))} (recording from it)")
    elif config.stash[_SETTINGS].allow_network:
        lines.append("mock_openai: network allowed (--mock-openai-allow-network): no guard, no session environment")
    return lines


@pytest.fixture(scope="session")
def _mock_openai_instance(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's fake, built but not started (in-process use needs no socket); stopped at the end."""
    environment = pytestconfig.stash.get(_ENVIRONMENT, None)
    port = environment.port if environment is not None else 0
    server = MockServer(pytestconfig.stash[_SETTINGS].config, port=port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mock_openai_server(_mock_openai_instance: MockServer, pytestconfig: pytest.Config) -> MockServer:
    """The session's fake OpenAI server, running on 127.0.0.1 (one per xdist worker): on the port the session's
    environment points at, else a free one."""
    environment = pytestconfig.stash.get(_ENVIRONMENT, None)
    if environment is not None:
        environment.release_port()
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
    respx cannot see httpx2 (openai 3.x): a request an httpx2 client sends to a host other than loopback during
    the test fails with a usage error saying what to use instead.
    """
    try:
        import respx
    except ModuleNotFoundError:
        pytest.fail("the mock_openai_respx fixture needs respx: pip install respx", pytrace=False)
    refuse_httpx2(monkeypatch)

    if "mock_openai" not in request.fixturenames:  # else the socket server's environment stays
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", mock_openai_inprocess.api_key)
    with respx.mock(assert_all_called=False) as router:
        mock_openai_inprocess.route(router)
        yield router
