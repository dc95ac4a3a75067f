"""A connection pool of httpcore HTTP/1.1 connections, cheap per request.

httpcore's own pool re-examines every connection (and every queued request) on each request and on each response
close, so its cost per request grows with the number of open connections: at 64 requests in flight that scan was
the largest single cost of the httpx transport. Here idle connections wait on a stack per origin: a request takes
the most recently used one that is still usable (a look at its state, no system call), else opens a new one while
fewer than ``max_connections`` are open, else waits (up to the pool timeout) for one to be released.

Connections are ``httpcore.AsyncHTTPConnection`` objects, so ``respx`` (which patches that class) still intercepts
requests sent through this pool.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable

import httpcore

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Hands out one connection per request; :meth:`release` takes it back once its response is closed.
    ``ssl_context`` makes the TLS context for ``https`` connections, once, when the first one opens."""

    def __init__(
        self,
        *,
        ssl_context: Callable[[], ssl.SSLContext],
        network_backend: httpcore.AsyncNetworkBackend,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry: float,
    ) -> None:
        self._make_ssl_context = ssl_context
        self._ssl_context: ssl.SSLContext | None = None
        self._network_backend = network_backend
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive_connections
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._open: set[httpcore.AsyncHTTPConnection] = set()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def acquire(self, origin: httpcore.Origin, pool_timeout: float | None) -> httpcore.AsyncHTTPConnection:
        """A usable connection to ``origin``: pooled, new, or the next released one (``PoolTimeout`` after
        ``pool_timeout`` seconds of waiting)."""
        while True:
            if self._closed:
                raise httpcore.ConnectError("the connection pool is closed")
            idle = self._idle.get((origin.scheme, origin.host, origin.port))
            while idle:
                connection = idle.pop()
                self._idle_count -= 1
                if connection.is_available() and not connection.has_expired():
                    await self._drop_expired(idle)
                    return connection
                await self._discard(connection)
            if len(self._open) < self._max_connections:
                connection = httpcore.AsyncHTTPConnection(
                    origin=origin,
                    ssl_context=self._ssl_context_for(origin),
                    keepalive_expiry=self._keepalive_expiry,
                    network_backend=self._network_backend,
                )
                self._open.add(connection)
                return connection
            await self._wait_for_release(pool_timeout)

    def _ssl_context_for(self, origin: httpcore.Origin) -> ssl.SSLContext | None:
        """The one TLS context of this pool, made when the first ``https`` connection is (it is slow to make)."""
        if origin.scheme != b"https":
            return None
        if self._ssl_context is None:
            self._ssl_context = self._make_ssl_context()
        return self._ssl_context

    async def _wait_for_release(self, seconds: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter
        except BaseException as exc:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._wake_one()  # woken, but leaving: pass the turn on
            if isinstance(exc, TimeoutError):
                raise httpcore.PoolTimeout("timed out waiting for a connection from the pool") from None
            raise

    async def _drop_expired(self, idle: list[httpcore.AsyncHTTPConnection]) -> None:
        """Close the oldest idle connections once they have expired (idle longer than the keep-alive, or closed by
        the server)."""
        expired = []
        while idle and idle[0].has_expired():
            expired.append(idle.pop(0))
            self._idle_count -= 1
        for connection in expired:
            self._open.discard(connection)
            self._wake_one()
        await _close_all(expired)

    async def release(self, connection: httpcore.AsyncHTTPConnection, origin: httpcore.Origin) -> None:
        """Take back a connection whose response has been closed: pooled if it can serve another request."""
        if (
            not self._closed
            and self._idle_count < self._max_keepalive
            and connection.is_idle()
            and connection.is_available()
            and not connection.has_expired()
        ):
            self._idle.setdefault((origin.scheme, origin.host, origin.port), []).append(connection)
            self._idle_count += 1
            self._wake_one()
            return
        await self._discard(connection)

    async def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open.discard(connection)
        self._wake_one()
        await connection.aclose()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        """Close every connection, busy or idle; waiting requests fail. Safe to call twice."""
        self._closed = True
        connections = list(self._open)
        self._open.clear()
        self._idle.clear()
        self._idle_count = 0
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        await _close_all(connections)


async def _close_all(connections: list[httpcore.AsyncHTTPConnection]) -> None:
    """Close ``connections`` side by side (each close may wait, briefly, on its peer); every close finishes before
    the first failure, if any, is raised."""
    if len(connections) == 1:
        await connections[0].aclose()
        return
    outcomes = await asyncio.gather(*(connection.aclose() for connection in connections), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
