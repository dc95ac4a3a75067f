"""A tiny HTTP/1.1 server on a loopback port whose every answer is scripted, byte by byte: the faults a real
server cannot be made to commit (garbage, a cut mid-headers, a reset, silence), and a count of its connections."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from client._transport import AsyncTransport, Timeout, TransportRequest

__all__ = [
    "CHUNKED_HEAD",
    "PATIENCE",
    "SHORT_READ",
    "Conversation",
    "RawServer",
    "Script",
    "chunk",
    "get",
    "hang_forever",
    "ok",
    "raw_server",
    "read_by_chunks",
    "read_whole",
]

SHORT_READ = Timeout(connect=5, read=0.3)
#: long enough for any loaded machine; only reached when a test is about to fail
PATIENCE = 10.0


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


async def read_whole(transport: AsyncTransport, url: str) -> bytes:
    """Send a GET and read its body whole; the response is closed either way."""
    response = await transport.send(get(url))
    try:
        return await response.aread()
    finally:
        await response.aclose()


async def read_by_chunks(transport: AsyncTransport, url: str) -> list[bytes]:
    """Send a GET and read its body chunk by chunk; the response is closed either way."""
    response = await transport.send(get(url))
    received: list[bytes] = []
    try:
        async for piece in response.aiter_bytes():
            received.append(piece)
    finally:
        await response.aclose()
    return received
