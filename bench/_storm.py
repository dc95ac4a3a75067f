"""A cancellation storm: many chat streams, each cancelled at a seeded random point - while waiting for its
headers, or after a few chunks - from our client or from the official SDK, on either transport.

Each stream is opened the documented way (``async with await client.chat.completions.create(..., stream=True)``)
in a task of its own, and that task is cancelled. The storm counts the responses each client handed out and how
many were never closed, and tags every request (``x-storm-id``) so the server's journal can be checked after.
Used by ``bench/storm.py`` (1,000 per client) and the storm test (200 per client).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import client
from client._transport import AsyncTransport, TransportRequest, TransportResponse
from mockserver import MockServer

__all__ = ["CLIENTS", "STORM_HEADER", "StormTally", "add_task_probe", "open_storm_client", "run_storm"]

CLIENTS = ("client-httpx", "client-aiohttp", "openai", "openai-aiohttp")
STORM_HEADER = "x-storm-id"
TASK_PROBE = "/_probe/tasks"
MESSAGES = [{"role": "user", "content": "storm"}]
#: ``(headers) -> an open stream`` (an async context manager that is also an async iterator)
OpenStream = Callable[[Mapping[str, str]], Awaitable[Any]]
#: slow enough that the server is still sending when the cancellation lands, even on a loaded machine
_SLOW_STREAM = '{"type": "latency", "itl": 0.1}'
_SLOW_HEADERS = '{"type": "latency", "ttft": 5}'


@dataclass(slots=True)
class StormTally:
    """What one client went through."""

    client: str
    streams: int = 0
    cancelled_waiting_for_headers: int = 0
    cancelled_mid_stream: int = 0
    #: streams that ended (or failed) before their cancel point: the storm did not test them
    not_cancelled: int = 0
    responses: int = 0
    unreleased: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


async def _tasks(request: Request) -> Response:
    return JSONResponse({"tasks": len(asyncio.all_tasks())})


def add_task_probe(server: MockServer) -> str:
    """Mount a route on ``server`` that answers how many tasks its event loop has; returns its URL."""
    server.app.router.routes.append(Route(TASK_PROBE, _tasks, methods=["GET"]))
    return server.url + TASK_PROBE


@dataclass(slots=True)
class _Counted:
    inner: TransportResponse
    closed: bool = False

    @property
    def status_code(self) -> int:
        return self.inner.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.inner.headers

    async def aread(self) -> bytes:
        try:
            return await self.inner.aread()
        finally:
            self.closed = True

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self.inner.aiter_bytes()

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


@dataclass(slots=True)
class _CountingTransport:
    """Our client's transport, remembering every response it handed out."""

    inner: AsyncTransport
    responses: list[_Counted] = field(default_factory=list)

    async def send(self, request: TransportRequest) -> TransportResponse:
        response = _Counted(await self.inner.send(request))
        self.responses.append(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def open_storm_client(kind: str, base_url: str, tally: StormTally) -> AsyncIterator[OpenStream]:
    """A stream opener of client ``kind``; on exit the client is closed and ``tally`` gets its response counts."""
    if kind.startswith("client-"):
        inner = client.DefaultAioHttpClient() if kind == "client-aiohttp" else client.HttpxTransport()
        counting = _CountingTransport(inner)
        ours = client.AsyncOpenAI(base_url=base_url, api_key="sk-storm", http_client=counting, max_retries=0)
        try:
            yield lambda headers: ours.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True, extra_headers=headers
            )
        finally:
            tally.responses = len(counting.responses)
            tally.unreleased = sum(not response.closed for response in counting.responses)
            await ours.close()
        return
    seen: list[httpx2.Response] = []

    async def remember(response: httpx2.Response) -> None:
        seen.append(response)

    hooks = {"response": [remember]}
    http_client = (
        openai.DefaultAioHttpClient(event_hooks=hooks)
        if kind == "openai-aiohttp"
        else openai.DefaultAsyncHttpxClient(event_hooks=hooks)
    )
    sdk = openai.AsyncOpenAI(base_url=base_url, api_key="sk-storm", http_client=http_client, max_retries=0)
    try:
        yield lambda headers: sdk.chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            extra_headers=dict(headers),
        )
    finally:
        tally.responses = len(seen)
        tally.unreleased = sum(not response.is_closed for response in seen)
        await sdk.close()


async def _read_then_wait(open_stream: OpenStream, headers: Mapping[str, str], chunks: int, at: asyncio.Event) -> None:
    """Open a stream, read ``chunks`` chunks, then wait (for the cancellation) with the stream open."""
    async with await open_stream(headers) as stream:
        received = 0
        while received < chunks:
            await anext(stream)
            received += 1
        at.set()
        await asyncio.Event().wait()


async def _one(open_stream: OpenStream, ident: str, rng: random.Random, tally: StormTally) -> None:
    waiting_for_headers = rng.random() < 0.3
    fault = _SLOW_HEADERS if waiting_for_headers else _SLOW_STREAM
    headers = {STORM_HEADER: ident, "X-Mock-Fault": fault}
    at = asyncio.Event()
    task = asyncio.create_task(_read_then_wait(open_stream, headers, rng.randint(0, 4), at))
    if waiting_for_headers:
        await asyncio.sleep(rng.uniform(0.001, 0.02))
    else:
        reached = asyncio.create_task(at.wait())
        await asyncio.wait([task, reached], return_when=asyncio.FIRST_COMPLETED)
        reached.cancel()
    if task.done():
        tally.not_cancelled += 1
        if task.exception() is not None:
            tally.errors.append(repr(task.exception()))
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        if waiting_for_headers:
            tally.cancelled_waiting_for_headers += 1
        else:
            tally.cancelled_mid_stream += 1
    except Exception as exc:  # the stream failed as it was being cancelled
        tally.errors.append(repr(exc))


async def run_storm(kind: str, base_url: str, *, streams: int, seed: int, concurrency: int = 25) -> StormTally:
    """``streams`` cancelled streams from a fresh client of ``kind``, ``concurrency`` at a time."""
    tally = StormTally(kind, streams=streams)
    rng = random.Random(seed)
    started = time.perf_counter()
    async with open_storm_client(kind, base_url, tally) as open_stream:
        pending = iter(range(streams))

        async def worker() -> None:
            for number in pending:
                await _one(open_stream, f"{kind}-{number}", rng, tally)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    tally.seconds = time.perf_counter() - started
    return tally
