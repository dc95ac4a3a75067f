"""An httpcore network backend on plain asyncio protocols, for the httpx transport's own connection pool.

httpcore's default backend goes through anyio streams; every read and write pays for anyio's cancel scopes, and
every "is this idle connection still alive?" check (which the pool makes for each pooled connection, per request)
costs a ``poll`` system call. Here a connection is an ``asyncio.Protocol`` the event loop feeds as data arrives, so
that check is a look at what has already been received, and a read that finds data buffered returns it at once.

The request a connection writes (headers, then body) is held back and sent in one piece when the connection starts
reading the response (or once it grows large), so a small request is one system call and one TCP segment.
Failures are raised as httpcore's exceptions (``ConnectError``, ``ReadTimeout``, ...), as httpcore expects.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = ["AsyncioNetworkBackend", "AsyncioNetworkStream"]

#: stop reading from the socket while this much received data waits to be read (resume below a quarter of it)
_READ_HIGH_WATER = 256 * 1024
#: send held-back request bytes at once when they reach this size
_WRITE_FLUSH_SIZE = 64 * 1024
#: ``loop.start_tls`` needs a positive handshake timeout; ours is enforced around it
_TLS_HANDSHAKE_CEILING = 600.0


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _ConnectionProtocol(asyncio.Protocol):
    """Buffers what the socket delivers and wakes the one reader or writer waiting on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.lost: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None:
            self.error = exc
        self._wake()
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, seconds: float | None) -> None:
        """Until :meth:`_wake`; ``TimeoutError`` after ``seconds``."""
        waiter = self.waiter = self.loop.create_future()
        timer = None if seconds is None else self.loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()


class AsyncioNetworkStream(httpcore.AsyncNetworkStream):
    """One connection: reads what the protocol buffered, writes through the transport."""

    def __init__(self, protocol: _ConnectionProtocol) -> None:
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._write_timeout: float | None = None

    @property
    def _transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        assert transport is not None
        return transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._pending:
            await self._flush()
        protocol = self._protocol
        chunks = protocol.chunks
        while not chunks:
            if protocol.error is not None:
                raise httpcore.ReadError(f"{type(protocol.error).__name__}: {protocol.error}")
            if protocol.eof:
                return b""
            try:
                await protocol.wait(timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading from the server") from None
        chunk = chunks.popleft()
        if len(chunk) > max_bytes:
            chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        protocol.buffered -= len(chunk)
        if protocol.reading_paused and protocol.buffered < _READ_HIGH_WATER // 4:
            protocol.reading_paused = False
            self._transport.resume_reading()
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        if self._protocol.eof or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._pending.append(bytes(buffer))
        self._pending_size += len(buffer)
        self._write_timeout = timeout
        if self._pending_size >= _WRITE_FLUSH_SIZE:
            await self._flush()

    async def _flush(self) -> None:
        pending = self._pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self._pending = []
        self._pending_size = 0
        protocol = self._protocol
        transport = self._transport
        if transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        transport.write(data)
        while protocol.writing_paused and not protocol.eof:
            try:
                await protocol.wait(self._write_timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing to the server") from None

    async def aclose(self) -> None:
        protocol = self._protocol
        transport = protocol.transport
        if transport is None:
            return
        if not transport.is_closing():
            if transport.get_write_buffer_size():
                transport.abort()  # the peer is not reading: do not wait to flush
            else:
                transport.close()
        if not protocol.lost.done():
            await asyncio.shield(protocol.lost)  # the socket is closed by the time we return

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        protocol = self._protocol
        try:
            async with asyncio.timeout(timeout):
                tls_transport = await protocol.loop.start_tls(
                    self._transport,
                    protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout if timeout else _TLS_HANDSHAKE_CEILING,
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        if tls_transport is None:
            raise httpcore.ConnectError("the TLS handshake did not complete")
        protocol.transport = tls_transport
        return self

    def get_extra_info(self, info: str) -> Any:
        protocol = self._protocol
        transport = protocol.transport
        if info == "is_readable":  # an idle connection with something to read has been closed by the server
            return bool(protocol.chunks) or protocol.eof or transport is None or transport.is_closing()
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class AsyncioNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens connections with ``loop.create_connection`` (TCP_NODELAY is asyncio's default for TCP)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        protocol = _ConnectionProtocol(loop)
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                # no happy_eyeballs_delay: on Python 3.11 a cancellation that lands as its race is won drops the
                # winning socket unclosed; addresses are tried one after another instead
                await loop.create_connection(lambda: protocol, host, port, local_addr=local)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        return self._configured(protocol, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        protocol = _ConnectionProtocol(loop)
        try:
            async with asyncio.timeout(timeout):
                await loop.create_unix_connection(lambda: protocol, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        return self._configured(protocol, socket_options)

    @staticmethod
    def _configured(
        protocol: _ConnectionProtocol, socket_options: Iterable[httpcore.SOCKET_OPTION] | None
    ) -> AsyncioNetworkStream:
        if socket_options:
            assert protocol.transport is not None
            sock = protocol.transport.get_extra_info("socket")
            for option in socket_options:
                sock.setsockopt(*option)
        return AsyncioNetworkStream(protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
