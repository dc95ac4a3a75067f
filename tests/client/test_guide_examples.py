"""Every example of the async guide, run as written (only ``from client import`` instead of ``from openai
import``) against a live mock server, on both transports: the default httpx one and the native aiohttp one.

The examples live under ``examples/``. Each test loads a fresh copy of its module (the guide builds its client at
import time, from ``OPENAI_BASE_URL``/``OPENAI_API_KEY``), runs it, and checks what it printed or answered. The
mock server runs in ``echo`` mode, so every reply is the prompt it was given. For the aiohttp runs,
``client.AsyncOpenAI`` is swapped for a subclass whose default ``http_client`` is ``DefaultAioHttpClient()``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import socket
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sanic import Sanic

import client
import client._client
from client import AsyncOpenAI, DefaultAioHttpClient
from client._retry import RetryTiming
from mockserver import MockServer, Prepopulate, ServerConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JOBS = 45


@pytest.fixture(scope="module")
def echo_server() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=3, mode="echo", prepopulate=Prepopulate(fine_tuning_jobs=JOBS))) as server:
        yield server


@pytest.fixture
def guide_env(echo_server: MockServer, monkeypatch: pytest.MonkeyPatch) -> MockServer:
    """The environment the guide expects: a base URL and an API key (here: the echo server's)."""
    echo_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", echo_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-guide")
    return echo_server


class AioHttpTransports:
    """Every ``DefaultAioHttpClient`` the examples made while installed, closed at the end of the test."""

    def __init__(self) -> None:
        self.made: list[DefaultAioHttpClient] = []

    def make(self) -> DefaultAioHttpClient:
        transport = DefaultAioHttpClient()
        self.made.append(transport)
        return transport

    def client_class(self) -> type[AsyncOpenAI]:
        make = self.make

        class AioHttpAsyncOpenAI(AsyncOpenAI):
            def __init__(self, **kwargs: Any) -> None:
                if kwargs.get("http_client") is None:
                    kwargs["http_client"] = make()
                super().__init__(**kwargs)

        return AioHttpAsyncOpenAI


@pytest.fixture(params=["httpx", "aiohttp"])
async def transport(
    request: pytest.FixtureRequest, guide_env: MockServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Which transport the examples' clients use; with ``aiohttp``, checks that they did use it."""
    transports = AioHttpTransports()
    if request.param == "aiohttp":
        monkeypatch.setattr(client, "AsyncOpenAI", transports.client_class())
    yield request.param
    for made in transports.made:
        await made.aclose()
    if request.param == "aiohttp":
        assert transports.made, "the example built no client on the aiohttp transport"


_fresh_names = itertools.count()


def load_example(name: str) -> ModuleType:
    """A fresh copy of ``examples/<name>.py`` (not registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(f"guide_example_{next(_fresh_names)}_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def loaded(name: str) -> AsyncIterator[ModuleType]:
    """The example module, its module-level client (if any) closed afterwards, as a script's exit would."""
    module = load_example(name)
    try:
        yield module
    finally:
        guide_client = getattr(module, "client", None)
        if isinstance(guide_client, AsyncOpenAI):
            await guide_client.close()


@pytest.fixture
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Clients made from now on retry without really sleeping; returns the delays they asked for."""
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(client._client, "RetryTiming", lambda: RetryTiming(sleep=record))
    return delays


# -- the plain examples ------------------------------------------------------------------------------------------


async def test_basic_usage(transport: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with loaded("guide_basic") as example:
        await example.main()
    assert capsys.readouterr().out == "Hello!\n"


async def test_concurrent_requests_with_gather(
    transport: str, guide_env: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async with loaded("guide_concurrent") as example:
        await example.main()
    prompts = ["Explain quantum computing", "What is machine learning?", "Describe neural networks"]
    assert capsys.readouterr().out == "".join(f"Prompt: {p}\nResponse: {p}\n\n" for p in prompts)
    assert len(guide_env.journal_for("/v1/chat/completions")) == 3


async def test_streaming(transport: str, guide_env: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    async with loaded("guide_streaming") as example:
        await example.main()
    assert capsys.readouterr().out == "Write a story"
    (entry,) = guide_env.journal_for("/v1/chat/completions")
    assert entry.stream
    assert entry.events_sent > 2


async def test_context_manager(transport: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with loaded("guide_context_manager") as example:
        await example.main()
    assert capsys.readouterr().out == "Hello!\n"


async def test_aiohttp_transport_example(
    guide_env: MockServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transports = AioHttpTransports()
    monkeypatch.setattr(client, "DefaultAioHttpClient", transports.make)
    async with loaded("guide_aiohttp") as example:
        await example.main()
    assert capsys.readouterr().out == "Hello!\n"
    (made,) = transports.made
    assert made.is_closed


async def test_rate_limiter_keeps_at_most_five_in_flight(
    transport: str, guide_env: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    guide_env.on(path="/v1/chat/completions").latency(ttft=0.005)
    async with loaded("guide_rate_limit") as example:
        await example.main()
    assert capsys.readouterr().out == "Completed 20 requests\n"
    entries = guide_env.journal_for("/v1/chat/completions")
    assert sorted(entry.body["messages"][0]["content"] for entry in entries) == sorted(
        f"Question {i}" for i in range(20)
    )
    assert most_at_once([(entry.received_at, entry.ended_at or entry.received_at) for entry in entries]) <= 5


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of the (start, end) intervals that overlap at one moment."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = best = 0
    for _, step in edges:
        running += step
        best = max(best, running)
    return best


async def test_pagination_walks_every_page(
    transport: str, guide_env: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async with loaded("guide_pagination") as example:
        await example.main()
    assert capsys.readouterr().out == f"Total jobs: {JOBS}\n"
    pages = guide_env.journal_for("/v1/fine_tuning/jobs", method="GET")
    assert len(pages) == 3
    assert all("limit=20" in page.query for page in pages)


async def test_task_group(transport: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with loaded("guide_task_group") as example:
        await example.main()
    assert capsys.readouterr().out == "Hello\nHi\n"


def test_an_example_runs_as_a_script(guide_env: MockServer) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "guide_basic.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=EXAMPLES.parent,
        timeout=60,
    )
    assert result.stdout == "Hello!\n"


# -- error handling: each except branch ------------------------------------------------------------------------


async def test_error_handling_success_prints_the_reply(transport: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with loaded("guide_errors") as example:
        await example.main()
    assert capsys.readouterr().out == "Hello!\n"


async def test_error_handling_connection_error_branch(
    transport: str, instant_retries: list[float], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    async with loaded("guide_errors") as example:
        await example.main()
    assert capsys.readouterr().out == "Connection error: Connection error.\n"
    assert len(instant_retries) == 2  # the default two retries, then the except branch


async def test_error_handling_rate_limit_branch(
    transport: str, guide_env: MockServer, instant_retries: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    guide_env.on(path="/v1/chat/completions").fail(429, message="Slow down.")
    async with loaded("guide_errors") as example:
        await example.main()
    assert capsys.readouterr().out.startswith("Rate limit exceeded: Error code: 429")
    assert len(guide_env.journal_for("/v1/chat/completions")) == 3  # retried twice first


async def test_error_handling_status_error_branch(
    transport: str, guide_env: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    guide_env.on(path="/v1/chat/completions").fail(403, message="Not for you.")
    async with loaded("guide_errors") as example:
        await example.main()
    printed = capsys.readouterr().out
    assert printed.startswith("API error 403: Error code: 403")
    assert "Not for you." in printed


# -- web frameworks --------------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan: startup on entry, shutdown on exit (where the guide closes its client)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    running = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        message = await from_app.get()
        assert message["type"] == "lifespan.shutdown.complete", message
        await running


@asynccontextmanager
async def app_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http:
        yield http


# the guide registers its shutdown hook with @app.on_event, which FastAPI deprecates (and warns about on import)
@pytest.mark.filterwarnings("ignore:\\s*on_event is deprecated:DeprecationWarning")
async def test_fastapi_app(transport: str) -> None:
    example = load_example("fastapi_app")
    async with app_client(example.app) as http:
        answers = await asyncio.gather(*(http.post("/chat", params={"message": f"hi {i}"}) for i in range(5)))
        assert not example.client.is_closed()
    assert [answer.json() for answer in answers] == [{"response": f"hi {i}"} for i in range(5)]
    assert example.client.is_closed()  # by the app's shutdown hook


@pytest.fixture
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test builds the example's ``Sanic("openai-app")`` afresh; test mode lets the name be reused."""
    monkeypatch.setattr(Sanic, "test_mode", True)


async def test_sanic_app(transport: str, sanic_test_mode: None) -> None:
    example = load_example("sanic_app")
    # The guide's listener takes (app, loop), and Sanic deprecates the loop argument. Building the app put Sanic's
    # own warning filter first (show sanic's deprecations once), so a mark would not reach it: this filter goes
    # before Sanic's, for exactly that warning (pytest restores the filters after the test).
    warnings.filterwarnings(
        "ignore", message=r".*Passing the loop argument to listeners is deprecated", category=DeprecationWarning
    )
    async with app_client(example.app) as http:
        answers = await asyncio.gather(*(http.post("/chat", json={"message": f"hi {i}"}) for i in range(5)))
        assert not example.client.is_closed()
    assert [answer.json() for answer in answers] == [{"response": f"hi {i}"} for i in range(5)]
    assert example.client.is_closed()  # by the app's before_server_stop listener
