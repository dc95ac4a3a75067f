"""The seam between the client and an HTTP library.

A transport sends one request and hands back the response once its headers have arrived; the body is read
afterwards, whole or incrementally. Transports raise only :class:`TransportError` (and its subclass
:class:`TransportTimeout`), from ``send`` and from reading the body alike; the client maps those to
``APIConnectionError`` / ``APITimeoutError``. Nothing an HTTP library raises escapes a transport raw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "AsyncTransport",
    "Timeout",
    "TransportError",
    "TransportRequest",
    "TransportResponse",
    "TransportTimeout",
]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET = _Unset()


@dataclass(frozen=True, slots=True, init=False)
class Timeout:
    """Seconds allowed for each phase; ``None`` waits forever. ``read`` bounds the wait for each piece of
    the response (headers, then every body chunk), as httpx does.

    Built like ``httpx.Timeout``: ``Timeout(600, connect=5.0)`` gives every phase 600 s but connecting 5 s.
    """

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        timeout: float | None = 600.0,
        *,
        connect: float | _Unset | None = _UNSET,
        read: float | _Unset | None = _UNSET,
        write: float | _Unset | None = _UNSET,
        pool: float | _Unset | None = _UNSET,
    ) -> None:
        for name, value in (("connect", connect), ("read", read), ("write", write), ("pool", pool)):
            object.__setattr__(self, name, timeout if isinstance(value, _Unset) else value)


@dataclass(frozen=True, slots=True)
class TransportRequest:
    method: str
    url: str
    #: header names as sent; every transport sends exactly these
    headers: Mapping[str, str]
    content: bytes | None
    timeout: Timeout


class TransportResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers, looked up case-insensitively."""
        ...

    async def aread(self) -> bytes:
        """The whole body; the connection is released once it is read."""
        ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk."""
        ...

    async def aclose(self) -> None:
        """Release the connection; a body not read to its end closes the connection rather than return it
        to the pool. Safe to call twice."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    async def send(self, request: TransportRequest) -> TransportResponse: ...

    async def aclose(self) -> None: ...


class TransportError(Exception):
    """The request could not be sent or the response could not be read (refused, reset, cut short)."""


class TransportTimeout(TransportError):
    """A phase of the exchange took longer than its :class:`Timeout` allows."""
