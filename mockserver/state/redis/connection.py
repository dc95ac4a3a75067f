"""The connection to Redis: where it is (the state URL), the two clients (asyncio for the request path on the
server's loop, blocking for scripting and the control API from any thread), bounded timeouts, and the one error a
request sees when Redis is away.

Both clients reconnect by themselves: a command on a connection Redis dropped fails, is retried once on a fresh
connection, and fails for good (:class:`StateUnavailable`) only if that fails too. A command that times out is not
retried (a Redis that does not answer in a second will not answer the retry either). Every wait is bounded by the
connect and socket timeouts, so a Redis that is gone costs a request at most a few seconds, never a hang.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...config.settings import DEFAULT_STATE_PREFIX
from ...wire.errors import APIErrorResponse

__all__ = [
    "CONNECT_TIMEOUT",
    "SOCKET_TIMEOUT",
    "UNAVAILABLE_CODE",
    "LoopClients",
    "RedisLocation",
    "StateUnavailable",
    "unavailable",
]

#: seconds to open a connection to Redis
CONNECT_TIMEOUT = 0.5
#: seconds to wait for any one reply from Redis (a Redis nearby answers in well under a millisecond)
SOCKET_TIMEOUT = 1.0
#: the ``code`` of the 503 a request gets while Redis is away
UNAVAILABLE_CODE = "state_unavailable"
#: what is retried once, on a fresh connection: a connection Redis (or the network) dropped
_RETRIED = (RedisConnectionError,)
#: what a lost connection raises (``OSError`` covers a refused or reset socket seen below redis-py)
StateUnavailable = (RedisConnectionError, RedisTimeoutError, OSError)


def unavailable() -> APIErrorResponse:
    """The 503 (OpenAI's shape, ``server_error``) a request gets while the shared state cannot be reached."""
    return APIErrorResponse(
        503,
        "The server cannot reach its shared state store right now; please try again shortly.",
        type="server_error",
        code=UNAVAILABLE_CODE,
    )


@dataclass(frozen=True, slots=True)
class RedisLocation:
    """A Redis URL split into the server's address (for the clients) and the key namespace (``?prefix=``)."""

    #: the URL without the ``prefix`` parameter
    url: str
    prefix: str

    def __repr__(self) -> str:  # the URL may carry a password
        return f"RedisLocation(prefix={self.prefix!r})"

    @classmethod
    def parse(cls, url: str) -> RedisLocation:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((value for name, value in query if name == "prefix"), DEFAULT_STATE_PREFIX)
        rest = "&".join(f"{name}={value}" for name, value in query if name != "prefix")
        return cls(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")), prefix)

    def key(self, *parts: str) -> str:
        """A key in the namespace: ``<prefix>:<part>:<part>``."""
        return ":".join((self.prefix, *parts))

    def _options(self) -> dict[str, Any]:
        return {
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            "health_check_interval": 0,
        }

    def async_client(self) -> redis.asyncio.Redis:
        """A client for the server's event loop (it connects on first use, in the loop that uses it)."""
        from redis.asyncio.retry import Retry

        return redis.asyncio.Redis.from_url(
            self.url, retry=Retry(NoBackoff(), 1, supported_errors=_RETRIED), **self._options()
        )

    def sync_client(self) -> redis.Redis:
        """A blocking client, safe to share between threads (a connection per call from its pool)."""
        from redis.retry import Retry

        return redis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 1, supported_errors=_RETRIED), **self._options())


class LoopClients:
    """One asyncio client per event loop that uses the state, closed on that loop when the loop shuts down.

    An asyncio connection belongs to the loop that opened it. The server has one loop, but an app used in process
    (an ASGI transport in tests) meets a new loop per test, and a ``MockServer`` a new one per start. So each loop
    gets its own client, and with it a parked async generator whose ``finally`` closes the client: ``asyncio.run``
    (and uvicorn, and pytest-asyncio's runners) close every open async generator of a loop before closing it
    (``loop.shutdown_asyncgens``), so the connections are closed where they live, and no socket is left behind.
    """

    def __init__(self, location: RedisLocation) -> None:
        self._location = location
        #: never connected: what scripts are registered on (each call names the client to run on)
        self.template = location.async_client()
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, tuple[redis.asyncio.Redis, AsyncGenerator[None]]] = {}

    async def current(self) -> redis.asyncio.Redis:
        """The running loop's client (made, with its closer, on the loop's first use)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None:
            return entry[0]
        client = self._location.async_client()
        closer = self._closer(loop, client)
        with self._lock:
            self._clients[loop] = (client, closer)
        await closer.asend(None)  # parked at its ``yield`` until the loop shuts its generators down
        return client

    async def _closer(self, loop: asyncio.AbstractEventLoop, client: redis.asyncio.Redis) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            with self._lock:
                self._clients.pop(loop, None)
            await client.aclose()
