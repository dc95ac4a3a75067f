"""The raw connection under a request: how the fault engine resets or closes it.

ASGI has no way to abort a connection, so the outermost layer of the app (:class:`mockserver.app.MockApp`)
stashes the server's transport in the scope. Under uvicorn the ``send`` callable it is given is a bound method of
its per-request cycle, which holds the asyncio transport. In-process transports (httpx's ``ASGITransport``) have
none: there the connection faults raise :class:`ConnectionFault` instead, which the client sees as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.types import Scope, Send

__all__ = ["TRANSPORT_KEY", "ConnectionFault", "abort_connection", "close_connection", "find_transport"]

#: the scope key under which the transport travels
TRANSPORT_KEY = "mockserver.transport"


class ConnectionFault(Exception):
    """A connection-level fault asked for where there is no connection to act on (an in-process transport)."""


def find_transport(send: Send) -> asyncio.Transport | None:
    """The transport behind uvicorn's ``send`` (httptools and h11 protocols), if there is one."""
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    # uvloop's transports are not asyncio.BaseTransport subclasses: check the methods used here
    if callable(getattr(transport, "abort", None)) and callable(getattr(transport, "get_extra_info", None)):
        return transport  # type: ignore[no-any-return]
    return None


def _transport(scope: Scope) -> asyncio.Transport:
    transport: asyncio.Transport | None = scope.get(TRANSPORT_KEY)
    if transport is None:
        raise ConnectionFault("this fault needs a real socket; serve the app with uvicorn (MockServer)")
    return transport


def abort_connection(scope: Scope) -> None:
    """Abort with a TCP reset (RST): linger on with a zero timeout, then abort without flushing."""
    transport = _transport(scope)
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # the socket may already be gone
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def close_connection(scope: Scope) -> None:
    """Close after flushing what was already written (a FIN, no more bytes)."""
    _transport(scope).close()
