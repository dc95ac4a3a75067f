"""Both transports against a tiny scripted TCP server: every failure becomes TransportError/TransportTimeout,
cancelled or abandoned reads close their connections, finished ones are reused."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import pytest

from client._transport import AsyncTransport, Timeout, TransportError, TransportRequest, TransportTimeout
from client._transports import DefaultAioHttpClient, HttpxTransport

TRANSPORTS: dict[str, Callable[[], AsyncTransport]] = {"httpx": HttpxTransport, "aiohttp": DefaultAioHttpClient}
SHORT_READ = Timeout(connect=5, read=0.3)
#: long enough for any loaded machine; only reached when a test is about to fail
PATIENCE = 10.0


@pytest.fixture(params=sorted(TRANSPORTS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    transport = TRANSPORTS[request.param]()
    yield transport
    await transport.aclose()


class Conversation:
    """One accepted connection, as a script sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def read_request(self) -> bytes | None:
        """The next request's head and body, or ``None`` once the client has closed the connection."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return head + await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_for_client_to_leave(self) -> None:
        with suppress(ConnectionError):
            while await self.reader.read(65536):
                pass

    def reset(self) -> None:
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Script = Callable[[Conversation], Awaitable[None]]


@dataclass
class RawServer:
    url: str
    requests: list[bytes] = field(default_factory=list)
    connections_opened: int = 0
    connections_open: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()

    def opened(self) -> None:
        self.connections_opened += 1
        self.connections_open += 1
        self._idle.clear()

    def closed(self) -> None:
        self.connections_open -= 1
        if not self.connections_open:
            self._idle.set()

    async def until_all_connections_closed(self) -> None:
        async with asyncio.timeout(PATIENCE):
            await self._idle.wait()


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[RawServer]:
    """Serve ``script`` once per connection on a free loopback port; the connection is closed when it returns."""
    handlers: set[asyncio.Task[None]] = set()
    state = RawServer(url="")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        state.opened()
        conversation = Conversation(reader, writer)
        original_read = conversation.read_request

        async def recording_read() -> bytes | None:
            request = await original_read()
            if request is not None:
                state.requests.append(request)
            return request

        conversation.read_request = recording_read  # type: ignore[method-assign]
        try:
            await script(conversation)
        finally:
            state.closed()
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/v1/thing"
    try:
        yield state
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def get(url: str, timeout: Timeout = SHORT_READ) -> TransportRequest:
    return TransportRequest("GET", url, {"Authorization": "Bearer sk-test"}, None, timeout)


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def hang_forever() -> None:
    await asyncio.Event().wait()


# -- failures before the response -------------------------------------------------------------------------------


async def test_refused_connection_is_a_transport_error(transport: AsyncTransport) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        await transport.send(get(f"http://127.0.0.1:{port}/v1/models"))
    assert not isinstance(caught.value, TransportTimeout)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/v1/models", "http://[::1/v1/models", "http:///v1/models"])
async def test_unusable_url_is_a_transport_error(transport: AsyncTransport, url: str) -> None:
    with pytest.raises(TransportError):
        await transport.send(get(url))


async def test_garbage_instead_of_http_is_a_transport_error(transport: AsyncTransport) -> None:
    async def garbage(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"SPAM SPAM SPAM\r\n\r\n")

    async with raw_server(garbage) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_connection_closed_mid_headers_is_a_transport_error(transport: AsyncTransport) -> None:
    async def cut_headers(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")

    async with raw_server(cut_headers) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_closed_before_any_answer_is_a_transport_error(transport: AsyncTransport) -> None:
    async def say_nothing(conversation: Conversation) -> None:
        await conversation.read_request()

    async with raw_server(say_nothing) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_reset_before_any_answer_is_a_transport_error(transport: AsyncTransport) -> None:
    async def reset(conversation: Conversation) -> None:
        await conversation.read_request()
        conversation.reset()

    async with raw_server(reset) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_server_that_never_answers_is_a_timeout(transport: AsyncTransport) -> None:
    async def never_answer(conversation: Conversation) -> None:
        await conversation.read_request()
        await hang_forever()

    async with raw_server(never_answer) as server:
        with pytest.raises(TransportTimeout):
            await transport.send(get(server.url))


async def test_a_listener_that_never_accepts_is_a_connect_timeout(transport: AsyncTransport) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/models"
        # with a backlog of 0 the kernel queues one connection; further handshakes go unanswered
        with socket.create_connection(listener.getsockname(), timeout=2), pytest.raises(TransportTimeout):
            await transport.send(get(url, Timeout(connect=0.2, read=5)))


# -- failures while the body is read ----------------------------------------------------------------------------


async def read_whole(transport: AsyncTransport, url: str) -> bytes:
    response = await transport.send(get(url))
    try:
        return await response.aread()
    finally:
        await response.aclose()


async def read_by_chunks(transport: AsyncTransport, url: str) -> list[bytes]:
    response = await transport.send(get(url))
    received: list[bytes] = []
    try:
        async for piece in response.aiter_bytes():
            received.append(piece)
    finally:
        await response.aclose()
    return received


READERS = {"aread": read_whole, "aiter_bytes": read_by_chunks}


@pytest.fixture(params=sorted(READERS))
def read_body(request: pytest.FixtureRequest) -> Callable[[AsyncTransport, str], Awaitable[object]]:
    return READERS[request.param]


async def test_body_shorter_than_its_content_length_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def cut_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")

    async with raw_server(cut_body) as server:
        with pytest.raises(TransportError) as caught:
            await read_body(transport, server.url)
    assert not isinstance(caught.value, TransportTimeout)


async def test_chunked_body_cut_before_its_end_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def cut_chunks(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n") + b"40\r\npartial")

    async with raw_server(cut_chunks) as server:
        with pytest.raises(TransportError):
            await read_body(transport, server.url)


async def test_reset_mid_body_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def reset_mid_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n"))
        conversation.reset()

    async with raw_server(reset_mid_body) as server:
        with pytest.raises(TransportError):
            await read_body(transport, server.url)


async def test_body_that_stalls_is_a_timeout(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def stall(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n"))
        await hang_forever()

    async with raw_server(stall) as server:
        with pytest.raises(TransportTimeout):
            await read_body(transport, server.url)


async def test_failed_read_leaves_a_response_that_closes_quietly(transport: AsyncTransport) -> None:
    async def cut_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")

    async with raw_server(cut_body) as server:
        response = await transport.send(get(server.url))
        with pytest.raises(TransportError):
            await response.aread()
        await response.aclose()
        await response.aclose()


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
