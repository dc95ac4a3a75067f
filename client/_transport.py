"""The seam between the client and an HTTP library.

A transport sends one request and hands back the response once its headers have arrived; the body is read
afterwards, whole or incrementally. Transports raise only :class:`TransportError` (and its subclass
:class:`TransportTimeout`), from ``send`` and from reading the body alike; the client maps those to
``APIConnectionError`` / ``APITimeoutError``. Nothing an HTTP library raises escapes a transport raw.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "SECRET_HEADERS",
    "AsyncTransport",
    "RequestHeaders",
    "Timeout",
    "TransportError",
    "TransportRequest",
    "TransportResponse",
    "TransportTimeout",
    "forget_locals",
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


#: request headers that carry credentials; their values never appear in a ``repr``
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"})


class RequestHeaders(dict[str, str]):
    """Request headers: a plain ``dict`` whose ``repr`` masks credentials (``authorization``, ``api-key``, ...), as
    ``httpx.Headers`` does, so a log of locals, pytest ``-l`` or an error tracker never shows the API key."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {name: "[secure]" if name.lower() in SECRET_HEADERS else value for name, value in self.items()}
        return f"{type(self).__name__}({shown!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, repr=False)
class TransportRequest:
    method: str
    url: str
    #: header names as sent; every transport sends exactly these
    headers: Mapping[str, str]
    content: bytes | None
    timeout: Timeout

    def __repr__(self) -> str:
        """Method and URL, as ``httpx.Request`` shows itself: never the headers (they carry the API key)."""
        return f"<TransportRequest({self.method!r}, {self.url!r})>"


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


def forget_locals(error: BaseException) -> BaseException:
    """``error`` with the local variables of the finished frames of its traceback cleared (the lines stay): they
    are an HTTP library's, and hold the request's headers in plain text, which pytest ``-l``, an error tracker or a
    log of locals would show. Its causes and contexts too. For the cause of a :class:`TransportError`."""
    seen: set[int] = set()
    current: BaseException | None = error
    pending: list[BaseException] = []
    while current is not None:
        if id(current) not in seen:
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
        current = pending.pop() if pending else None
    return error


class TransportError(Exception):
    """The request could not be sent or the response could not be read (refused, reset, cut short)."""


class TransportTimeout(TransportError):
    """A phase of the exchange took longer than its :class:`Timeout` allows."""
