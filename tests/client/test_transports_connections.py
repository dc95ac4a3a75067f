"""Both transports against a scripted TCP server: the bytes that go out, chunks delivered as they arrive, connections
reused when a body is finished and closed when it is abandoned or its task cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from raw_http_server import (
    CHUNKED_HEAD,
    PATIENCE,
    SHORT_READ,
    Conversation,
    chunk,
    get,
    ok,
    raw_server,
    read_by_chunks,
    read_whole,
)

from client._transport import AsyncTransport, Timeout, TransportRequest
from client._transports import DefaultAioHttpClient, HttpxTransport

TRANSPORTS: dict[str, Callable[[], AsyncTransport]] = {"httpx": HttpxTransport, "aiohttp": DefaultAioHttpClient}


@pytest.fixture(params=sorted(TRANSPORTS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    transport = TRANSPORTS[request.param]()
    yield transport
    await transport.aclose()


# -- what goes out, what comes back when ------------------------------------------------------------------------


async def test_sends_exactly_the_given_headers(transport: AsyncTransport) -> None:
    async def answer(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(ok(b"{}"))

    headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/json", "X-Stainless-Retry-Count": "0"}
    async with raw_server(answer) as server:
        request = TransportRequest("POST", server.url, headers, b'{"a": 1}', SHORT_READ)
        response = await transport.send(request)
        assert await response.aread() == b"{}"
        await response.aclose()
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode().split("\r\n")
    sent = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    assert request_line == "POST /v1/thing HTTP/1.1"
    assert body == b'{"a": 1}'
    assert sent.pop("host").startswith("127.0.0.1:")
    assert sent.pop("content-length") == "8"
    assert sent == {name.lower(): value for name, value in headers.items()}


async def test_chunks_are_delivered_as_they_arrive(transport: AsyncTransport) -> None:
    first_seen = asyncio.Event()

    async def in_two_steps(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        await first_seen.wait()  # the second chunk exists only once the client has shown the first
        await conversation.send(chunk(b"data: 2\n\n") + b"0\r\n\r\n")

    async with raw_server(in_two_steps) as server:
        response = await transport.send(get(server.url))
        received = []
        async for piece in response.aiter_bytes():
            received.append(piece)
            first_seen.set()
        await response.aclose()
    assert received == [b"data: 1\n\n", b"data: 2\n\n"]


async def keep_alive(conversation: Conversation) -> None:
    """Answer every request on the connection with a short body until the client leaves."""
    while await conversation.read_request() is not None:
        await conversation.send(ok(b"pong"))


async def test_a_finished_body_returns_its_connection_for_reuse(transport: AsyncTransport) -> None:
    async with raw_server(keep_alive) as server:
        assert await read_whole(transport, server.url) == b"pong"
        assert b"".join(await read_by_chunks(transport, server.url)) == b"pong"
        assert await read_whole(transport, server.url) == b"pong"
    assert len(server.requests) == 3
    assert server.connections_opened == 1


async def endless_stream(conversation: Conversation) -> None:
    """Send one event, then keep the stream open until the client goes away."""
    await conversation.read_request()
    await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n"))
    await conversation.wait_for_client_to_leave()


async def test_closing_an_unfinished_body_closes_its_connection(transport: AsyncTransport) -> None:
    async with raw_server(endless_stream) as server:
        response = await transport.send(get(server.url))
        async for _ in response.aiter_bytes():
            break
        await response.aclose()
        await server.until_all_connections_closed()
        await read_by_chunks_until_first(transport, server.url)
        await server.until_all_connections_closed()
    assert server.connections_opened == 2


async def read_by_chunks_until_first(transport: AsyncTransport, url: str) -> bytes:
    response = await transport.send(get(url))
    try:
        async for piece in response.aiter_bytes():
            return piece
        raise AssertionError("the stream ended without a chunk")
    finally:
        await response.aclose()


# -- cancellation -----------------------------------------------------------------------------------------------


async def stream_forever(transport: AsyncTransport, url: str, started: asyncio.Queue[None], *, close: bool) -> None:
    """Read a stream that never ends; ``close`` says whether to close the response on the way out (as the
    client does) or to leave it to the transport."""
    response = await transport.send(TransportRequest("GET", url, {}, None, Timeout(read=PATIENCE)))
    try:
        async for _ in response.aiter_bytes():
            started.put_nowait(None)
    finally:
        if close:
            await response.aclose()


@pytest.mark.parametrize("close", [True, False], ids=["closed-by-caller", "left-to-transport"])
async def test_cancelled_streams_leave_no_connection_open(transport: AsyncTransport, close: bool) -> None:
    count = 40
    started: asyncio.Queue[None] = asyncio.Queue()
    async with raw_server(endless_stream) as server:
        tasks = [asyncio.create_task(stream_forever(transport, server.url, started, close=close)) for _ in range(count)]
        async with asyncio.timeout(PATIENCE):
            for _ in range(count):
                await started.get()
        assert server.connections_open == count
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(result, asyncio.CancelledError) for result in results)
        await server.until_all_connections_closed()
    assert server.connections_opened == count


async def test_aiohttp_connections_are_all_released_after_cancelled_reads() -> None:
    transport = DefaultAioHttpClient()
    started: asyncio.Queue[None] = asyncio.Queue()
    try:
        async with raw_server(endless_stream) as server:
            tasks = [asyncio.create_task(stream_forever(transport, server.url, started, close=False)) for _ in range(5)]
            async with asyncio.timeout(PATIENCE):
                for _ in range(5):
                    await started.get()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            connector = transport._session.connector if transport._session is not None else None
            assert connector is not None
            assert len(connector._acquired) == 0
    finally:
        await transport.aclose()


async def test_cancelled_while_waiting_for_headers_closes_the_connection(transport: AsyncTransport) -> None:
    asked = asyncio.Event()

    async def answer_never(conversation: Conversation) -> None:
        await conversation.read_request()
        asked.set()
        await conversation.wait_for_client_to_leave()

    async with raw_server(answer_never) as server:
        sending = asyncio.create_task(transport.send(get(server.url, Timeout(read=PATIENCE))))
        async with asyncio.timeout(PATIENCE):
            await asked.wait()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        await server.until_all_connections_closed()
    assert server.connections_opened == 1
