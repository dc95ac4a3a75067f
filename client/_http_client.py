"""Turning the ``http_client=`` argument into a transport, and closing what the client owns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._transport import AsyncTransport
from ._transports.httpx import HttpxTransport

__all__ = ["DefaultAsyncHttpxClient", "HttpClientArg", "OwnedTransport", "open_transport"]


class DefaultAsyncHttpxClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` with this client's defaults (a large pool, the default timeout, redirects
    followed); any ``httpx.AsyncClient`` argument may be given."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", httpx.Timeout(600.0, connect=5.0))
        kwargs.setdefault("limits", httpx.Limits(max_connections=1000, max_keepalive_connections=100))
        kwargs.setdefault("follow_redirects", True)
        super().__init__(**kwargs)


HttpClientArg = httpx.AsyncClient | AsyncTransport | None


@dataclass(slots=True)
class OwnedTransport:
    """The transport a client and its copies share, and whether it has been closed (then every copy is closed)."""

    transport: AsyncTransport
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    closed: bool = False

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for close in self.closers:
            await close()


def open_transport(http_client: HttpClientArg) -> OwnedTransport:
    """``None``: a default httpx transport; an ``httpx.AsyncClient``: wrapped (and closed with the client, as the
    SDK does); anything with ``send`` and ``aclose`` (``DefaultAioHttpClient``, a test fake): used as it is."""
    if http_client is None:
        transport = HttpxTransport()
        return OwnedTransport(transport, [transport.aclose])
    if isinstance(http_client, httpx.AsyncClient):
        wrapped = HttpxTransport(http_client)
        return OwnedTransport(wrapped, [wrapped.aclose, http_client.aclose])
    if isinstance(http_client, AsyncTransport):
        return OwnedTransport(http_client, [http_client.aclose])
    raise TypeError(
        f"http_client must be an httpx.AsyncClient, a DefaultAioHttpClient or a transport, not {type(http_client)!r}"
    )
