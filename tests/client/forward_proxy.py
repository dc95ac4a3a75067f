"""A real forward proxy on a loopback port, for proxy-from-the-environment tests: plain HTTP forwarding (a request in
absolute form, answered over a fresh connection to the origin) and ``CONNECT`` tunnels; it counts what it carried.
Also a TLS front for a plain HTTP server (TLS terminated here, bytes relayed), so a test has an ``https`` origin.
Only loopback targets are accepted."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["ForwardProxy", "forward_proxy", "tls_front"]

#: any wait in these helpers gives up after this long (a loaded machine is far quicker)
PATIENCE = 10.0


@dataclass
class ForwardProxy:
    url: str = ""
    #: ``host:port`` of each request forwarded in plain HTTP
    forwarded: list[str] = field(default_factory=list)
    #: ``host:port`` of each ``CONNECT`` tunnel opened
    tunnels: list[str] = field(default_factory=list)

    @property
    def carried(self) -> int:
        return len(self.forwarded) + len(self.tunnels)


def _loopback(host: str) -> str:
    if not ipaddress.ip_address(host.strip("[]")).is_loopback:
        raise ValueError(f"the test proxy only reaches loopback addresses, not {host}")
    return host.strip("[]")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with suppress(ConnectionError, OSError):
        if writer.can_write_eof():
            writer.write_eof()


async def _relay(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    origin: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    try:
        async with asyncio.timeout(PATIENCE):
            await asyncio.gather(_pipe(client[0], origin[1]), _pipe(origin[0], client[1]))
    finally:
        origin[1].close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, list[bytes]] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *headers = head[:-4].split(b"\r\n")
    method, target, _ = request_line.decode("latin-1").split(" ", 2)
    return method, target, headers


@asynccontextmanager
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    state = ForwardProxy()
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            head = await _read_head(reader)
            if head is None:
                return
            method, target, headers = head
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                origin = await asyncio.open_connection(_loopback(host), int(port))
                state.tunnels.append(target)
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await _relay((reader, writer), origin)
                return
            url = urlsplit(target)  # absolute form: http://host:port/path?query
            assert url.hostname is not None
            assert url.port is not None
            origin = await asyncio.open_connection(_loopback(url.hostname), url.port)
            state.forwarded.append(f"{url.hostname}:{url.port}")
            path = url.path + (f"?{url.query}" if url.query else "")
            kept = [line for line in headers if not line.lower().startswith((b"connection:", b"proxy-"))]
            rewritten = f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(line + b"\r\n" for line in kept)
            origin[1].write(rewritten + b"Connection: close\r\n\r\n")
            await _relay((reader, writer), origin)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def tls_front(plain_url: str, context: ssl.SSLContext) -> AsyncIterator[str]:
    """An ``https`` base URL whose connections are relayed to the server at ``plain_url`` (``http://...``)."""
    plain = urlsplit(plain_url)
    assert plain.hostname is not None
    assert plain.port is not None
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            origin = await asyncio.open_connection(_loopback(plain.hostname or ""), plain.port)
            await _relay((reader, writer), origin)
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}{plain.path}"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
