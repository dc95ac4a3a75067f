"""The fault engine against the official openai SDK (3.x; CI also runs 2.x), over its default transport and
DefaultAioHttpClient, on a real socket: retries as the server directs them, no retries where the server says so,
timeouts on a hang, a cut stream, and a cancelled stream the server notices."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from _helpers import TIMER_SLACK, sdk_client

from mockserver import JournalEntry, MockServer
from mockserver.faults import fail

CHAT = "/v1/chat/completions"
#: openai >= 3 wraps a connection cut mid-stream in APIConnectionError; 1.x/2.x let httpx's error through
CUT_ERRORS: tuple[type[Exception], ...] = (
    (openai.APIConnectionError,)
    if int(openai.__version__.split(".")[0]) >= 3
    else (openai.APIConnectionError, httpx.TransportError)
)
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(params=["httpx2", "aiohttp"])
async def client(request: pytest.FixtureRequest, server: MockServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The SDK as users build it (its default retries, no strict validation): these tests watch its retries, so
    this replaces the shared no-retry ``client``."""
    async with sdk_client(server, request.param, strict=False) as sdk:
        yield sdk


async def drain(stream: AsyncIterable[Any], into: list[Any]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def settled(server: MockServer) -> list[JournalEntry]:
    """The journal once no request is in progress (a hang-up reaches the server a moment after it happens)."""
    deadline = time.monotonic() + 5
    while any(entry.outcome == "in_progress" for entry in server.journal):
        assert time.monotonic() < deadline, "requests still in progress"
        await asyncio.sleep(0.005)
    return server.journal


async def test_429_twice_then_success(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.on(path=CHAT).fail(429, retry_after_ms=20).times(2)
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    attempts = await settled(server)
    assert [entry.status for entry in attempts] == [429, 429, 200]
    assert [entry.headers["x-stainless-retry-count"] for entry in attempts] == ["0", "1", "2"]
    for earlier, later in itertools.pairwise(attempts):
        assert earlier.ended_at is not None
        # the SDK waits at least what retry-after-ms says before the next attempt
        assert later.received_at - earlier.ended_at >= 0.02 - TIMER_SLACK


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "rate_limit", "kind": "quota"},
        {"type": "status", "status": 400, "message": "Bad request."},
    ],
)
async def test_quota_and_400_are_tried_once(
    server: MockServer, client: openai.AsyncOpenAI, rule: dict[str, object]
) -> None:
    server.add_rules({"match": {"path": CHAT}, "action": rule})
    with pytest.raises((openai.RateLimitError, openai.BadRequestError)) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    expected = openai.RateLimitError if rule["type"] == "rate_limit" else openai.BadRequestError
    assert type(caught.value) is expected
    assert len(await settled(server)) == 1


async def test_a_persistent_500_fails_after_three_attempts(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.on(path=CHAT).then(fail(500, retry_after_ms=5))
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.status_code == 500
    assert [entry.status for entry in await settled(server)] == [500, 500, 500]


async def test_a_hang_times_out(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.on(path=CHAT).hang()
    with pytest.raises(openai.APITimeoutError):
        await client.with_options(max_retries=0, timeout=0.3).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    (entry,) = await settled(server)
    assert entry.outcome == "hang_abandoned"
    assert entry.disconnect_noticed_at is not None
    assert server.stats()["in_flight"] == 0


async def test_a_hang_is_retried_on_timeout(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.on(path=CHAT).hang().times(1)
    completion = await client.with_options(max_retries=1, timeout=0.3).chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )
    assert completion.choices
    assert [entry.outcome for entry in await settled(server)] == ["hang_abandoned", "completed"]


async def test_a_stream_cut_after_three_events_raises_while_iterating(
    server: MockServer, client: openai.AsyncOpenAI
) -> None:
    server.on(path=CHAT, stream=True).disconnect(after_events=3)
    chunks: list[Any] = []
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(CUT_ERRORS):
        await drain(stream, chunks)
    assert len(chunks) == 3
    (entry,) = await settled(server)
    assert (entry.outcome, entry.events_sent) == ("server_cut", 3)


async def test_cancelling_the_iterating_task_is_seen_as_a_client_disconnect(
    server: MockServer, client: openai.AsyncOpenAI
) -> None:
    server.on(path=CHAT).latency(itl=0.02)
    first_chunk = asyncio.Event()

    async def consume() -> None:
        stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async for _ in stream:
            first_chunk.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_chunk.wait(), 5)
    assert server.stats()["open_streams"] == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (entry,) = await settled(server)
    assert entry.outcome == "client_disconnected"
    assert entry.disconnect_noticed_at is not None
    assert server.stats()["open_streams"] == 0


async def test_a_mid_stream_error_event_raises_api_error(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.on(path=CHAT).stream_error(after_events=2, message="The model is overloaded.")
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks: list[Any] = []
    with pytest.raises(openai.APIError, match="The model is overloaded"):
        await drain(stream, chunks)
    assert len(chunks) == 2
