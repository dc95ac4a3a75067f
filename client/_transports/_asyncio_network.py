"""An httpcore network backend on plain asyncio protocols, for the httpx transport's own connection pool.

httpcore's default backend goes through anyio streams; every read and write pays for anyio's cancel scopes, and
every "is this idle connection still alive?" check (which the pool makes for each pooled connection, per request)
costs a ``poll`` system call. Here a connection is an ``asyncio.Protocol`` the event loop feeds as data arrives, so
that check is a look at what has already been received, and a read that finds data buffered returns it at once.

The request a connection writes (headers, then body) is held back and sent in one piece when the connection starts
reading the response (or once it grows large), so a small request is one system call and one TCP segment.
Failures are raised as httpcore's exceptions (``ConnectError``, ``ReadTimeout``, ...), as httpcore expects.

It runs on any asyncio event loop (the default one and uvloop alike): it uses only the loop's public methods and the
transports they return. Connecting races a host's addresses (RFC 8305 "happy eyeballs": the next address is tried
when the previous one has not answered within :data:`ATTEMPT_DELAY`, or at once when it failed), and every socket a
race opens is closed unless it won, also when the race is cancelled. Closing never waits on the peer for longer than
:data:`CLOSE_GRACE` (a TLS peer that never answers the close handshake): the connection is then aborted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpcore

__all__ = ["ATTEMPT_DELAY", "CLOSE_GRACE", "Address", "AsyncioNetworkBackend", "AsyncioNetworkStream"]

#: seconds a connection attempt to one address gets before the next address is tried alongside it (RFC 8305's
#: recommended "Connection Attempt Delay")
ATTEMPT_DELAY = 0.25
#: seconds a closing connection waits for the peer (TLS close_notify) before it is aborted
CLOSE_GRACE = 0.25

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
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport classes

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
        if transport is None:  # pragma: no cover - a stream is only made once its transport is known
            raise httpcore.NetworkError("the connection has no transport")
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
        """Close the connection: gracefully (a TLS close_notify) for up to :data:`CLOSE_GRACE`, then aborted; the
        socket is closed by the time this returns, also when the caller is cancelled meanwhile."""
        protocol = self._protocol
        transport = protocol.transport
        if transport is None:
            return
        if not transport.is_closing():
            if transport.get_write_buffer_size():
                transport.abort()  # the peer is not reading: do not wait to flush
            else:
                transport.close()
        if protocol.lost.done():
            return
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                await asyncio.shield(protocol.lost)
        except TimeoutError:  # the peer did not finish closing in time: do not wait on it any longer
            transport.abort()
            if not protocol.lost.done():  # an abort reports the loss on the loop's next turn
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_GRACE):
                        await asyncio.shield(protocol.lost)
        except BaseException:  # cancelled while closing: abort rather than leave the close to the peer
            transport.abort()
            raise

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


@dataclass(frozen=True, slots=True)
class Address:
    """One address a host name resolved to, as ``socket.getaddrinfo`` gives it."""

    family: socket.AddressFamily
    sockaddr: tuple[Any, ...]


def _interleaved(addresses: Sequence[Address]) -> list[Address]:
    """The addresses in resolver order, but alternating families from the first one on (RFC 8305, 4)."""
    by_family: dict[socket.AddressFamily, collections.deque[Address]] = {}
    for address in addresses:
        by_family.setdefault(address.family, collections.deque()).append(address)
    queues = list(by_family.values())
    ordered: list[Address] = []
    while queues:
        for queue in queues:
            ordered.append(queue.popleft())
        queues = [queue for queue in queues if queue]
    return ordered


@dataclass(slots=True)
class _Race:
    """The sockets of one staggered connect: each attempt's socket is closed unless it is the race's winner, also
    when an attempt finishes after the race is over (cancelled, timed out, or won by another attempt)."""

    over: bool = False
    winner: socket.socket | None = None
    attempts: list[asyncio.Task[socket.socket]] = field(default_factory=list)

    def settle(self, attempt: asyncio.Task[socket.socket]) -> None:
        """Done-callback of every attempt: retrieves its outcome, and closes its socket if it is not wanted."""
        if attempt.cancelled() or attempt.exception() is not None:
            return
        if self.over and attempt.result() is not self.winner:
            attempt.result().close()

    def finish(self) -> None:
        """The race is over: cancel the attempts still running, close the sockets of those that connected."""
        self.over = True
        for attempt in self.attempts:
            if not attempt.done():
                attempt.cancel()
            else:
                self.settle(attempt)


async def _attempt(
    loop: asyncio.AbstractEventLoop,
    address: Address,
    local_address: str | None,
    socket_options: Sequence[httpcore.SOCKET_OPTION],
) -> socket.socket:
    sock = socket.socket(address.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for option in socket_options:
            sock.setsockopt(*option)
        if local_address:
            sock.bind((local_address, 0))
        await loop.sock_connect(sock, address.sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


async def _staggered_connect(
    loop: asyncio.AbstractEventLoop,
    addresses: Sequence[Address],
    local_address: str | None,
    socket_options: Sequence[httpcore.SOCKET_OPTION],
) -> socket.socket:
    """A socket connected to the first of ``addresses`` that answers; a new attempt starts every
    :data:`ATTEMPT_DELAY` seconds, or as soon as the running ones have all failed."""
    race = _Race()
    waiting = list(addresses)
    try:
        while True:
            if waiting:
                attempt = loop.create_task(_attempt(loop, waiting.pop(0), local_address, socket_options))
                attempt.add_done_callback(race.settle)
                race.attempts.append(attempt)
            running = {attempt for attempt in race.attempts if not attempt.done()}
            if running:
                await asyncio.wait(
                    running, timeout=ATTEMPT_DELAY if waiting else None, return_when=asyncio.FIRST_COMPLETED
                )
            for attempt in race.attempts:
                if attempt.done() and attempt.exception() is None:
                    race.winner = attempt.result()
                    return race.winner
            if not waiting and all(attempt.done() for attempt in race.attempts):
                errors = "; ".join(str(attempt.exception()) for attempt in race.attempts)
                raise OSError(f"all connection attempts failed: {errors}")
    finally:
        race.finish()


def _literal_address(host: str, port: int) -> Address | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6:
        return Address(socket.AF_INET6, (host, port, 0, 0))
    return Address(socket.AF_INET, (host, port))


class AsyncioNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections by racing the host's addresses (see the module's doc); TCP_NODELAY is set."""

    async def resolve(self, host: str, port: int) -> list[Address]:
        """The addresses of ``host`` (an IP literal is its own address), through the running loop's resolver."""
        literal = _literal_address(host, port)
        if literal is not None:
            return [literal]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [Address(family, sockaddr) for family, _, _, _, sockaddr in infos]

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
        try:
            async with asyncio.timeout(timeout):
                addresses = _interleaved(await self.resolve(host, port))
                if not addresses:
                    raise OSError(f"{host} resolved to no address")
                sock = await _staggered_connect(loop, addresses, local_address, list(socket_options or ()))
                transport, _ = await loop.create_connection(lambda: protocol, sock=sock)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        protocol.transport = transport
        return AsyncioNetworkStream(protocol)

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
                transport, _ = await loop.create_unix_connection(lambda: protocol, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        protocol.transport = transport
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioNetworkStream(protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
