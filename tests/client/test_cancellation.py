"""Cancelling a call at any point releases its connection at once and leaves the client usable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from client_fakes import CountingTransport, FakeResponse, fake_client

from client import AsyncOpenAI, DefaultAioHttpClient, HttpxTransport
from mockserver import MockServer

MESSAGES = [{"role": "user", "content": "hi"}]


async def _settled(server: MockServer) -> dict[str, int]:
    """The server's counters once it has noticed every disconnect (bounded wait, not a timing assertion)."""
    for _ in range(300):
        stats = server.stats()
        if stats["in_flight"] == 0 and stats["open_streams"] == 0:
            return stats
        await asyncio.sleep(0.01)
    return server.stats()


async def _counting_client(server: MockServer, kind: str = "httpx") -> tuple[AsyncOpenAI, CountingTransport]:
    transport = CountingTransport(DefaultAioHttpClient() if kind == "aiohttp" else HttpxTransport())
    return AsyncOpenAI(base_url=server.base_url, api_key="sk-test", http_client=transport, max_retries=0), transport


async def _list(api: AsyncOpenAI) -> object:
    return await api.models.list()


async def test_cancel_while_waiting_for_headers(server: MockServer) -> None:
    server.on(path="/v1/chat/completions").hang()
    api, transport = await _counting_client(server)
    async with api:
        task = asyncio.create_task(api.chat.completions.create(model="gpt-4o", messages=MESSAGES))
        for _ in range(300):
            if server.stats()["in_flight"]:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await _settled(server))["in_flight"] == 0
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert (await _settled(server))["in_flight"] == 0
    assert transport.unreleased == 0


async def test_cancel_while_reading_a_body_closes_the_response() -> None:
    api, transport, _ = fake_client(FakeResponse(200, {}, [b'{"object": '], hang=True))
    async with api:
        task = asyncio.create_task(_list(api))
        for _ in range(20):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert transport.sent[0].closed


async def test_stream_left_open_by_a_finished_task_is_released() -> None:
    reply = FakeResponse(200, {}, [b'data: {"id": "c", "choices": []}\n\n'], hang=True)
    api, transport, _ = fake_client(reply)
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)

        async def read_one() -> None:
            async for _ in stream:
                break

        await asyncio.create_task(read_one())
        for _ in range(5):
            await asyncio.sleep(0)
        assert reply.closed
        assert transport.sent == [reply]


async def test_cancel_while_awaiting_the_next_chunk(server: MockServer) -> None:
    server.on(path="/v1/chat/completions", stream=True).latency(itl=0.2)
    api, transport = await _counting_client(server)
    async with api:
        for _ in range(5):
            stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            started = asyncio.Event()

            async def consume(events: AsyncIterator[object], first: asyncio.Event) -> None:
                async for _ in events:
                    first.set()

            task = asyncio.create_task(consume(stream, started))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert transport.responses[-1].closed
        assert (await _settled(server))["open_streams"] == 0


async def _first_chunk_then_wait(stream: AsyncIterator[object], started: asyncio.Event) -> None:
    async for _ in stream:
        started.set()
        await asyncio.Event().wait()


@pytest.mark.parametrize("kind", ["httpx", "aiohttp"])
async def test_many_cancelled_streams_leak_nothing(server: MockServer, kind: str) -> None:
    server.on(path="/v1/chat/completions", stream=True).latency(ttft=0.001, itl=0.005)
    api, transport = await _counting_client(server, kind)
    async with api:
        for _ in range(25):
            stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            started = asyncio.Event()
            task = asyncio.create_task(_first_chunk_then_wait(stream, started))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        stats = await _settled(server)
        assert stats["open_streams"] == 0
        assert transport.unreleased == 0
        completion = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert completion.choices[0].message.content


async def test_timeout_mid_stream_and_task_group(server: MockServer) -> None:
    server.on(path="/v1/chat/completions", stream=True).latency(itl=0.01)
    api, transport = await _counting_client(server)
    async with api:
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)

        async def read_all_within(seconds: float) -> None:
            async with asyncio.timeout(seconds):
                async for _ in stream:
                    pass

        with pytest.raises(TimeoutError):
            await read_all_within(0.03)

        async def fail_soon() -> None:
            await asyncio.sleep(0.02)
            raise RuntimeError("sibling failed")

        async def consume() -> None:
            inner = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            async for _ in inner:
                pass

        async def run_group() -> None:
            async with asyncio.TaskGroup() as group:
                group.create_task(consume())
                group.create_task(consume())
                group.create_task(fail_soon())

        with pytest.raises(ExceptionGroup):
            await run_group()
        assert (await _settled(server))["open_streams"] == 0
    assert transport.unreleased == 0
