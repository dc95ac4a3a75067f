"""Turns a :mod:`reply <mockserver._reply>` value into ASGI messages on the wire.

A stream is written by one task while another listens for the client going away; whichever ends first
cancels the other (the shape of Starlette's ``StreamingResponse`` and sse-starlette).
"""

from __future__ import annotations

import enum

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._json import dumps
from ._reply import BytesReply, JSONReply, Reply, StreamReply

__all__ = ["Outcome", "deliver", "stream_headers"]

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"


class Outcome(enum.Enum):
    COMPLETED = "completed"
    CLIENT_DISCONNECTED = "client_disconnected"


def stream_headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    headers = {"content-type": SSE_MEDIA_TYPE, "cache-control": "no-cache", **extra}
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


async def deliver(reply: Reply, scope: Scope, receive: Receive, send: Send) -> Outcome:
    if isinstance(reply, JSONReply):
        response = Response(dumps(reply.body), reply.status, reply.headers, "application/json")
        await response(scope, receive, send)
        return Outcome.COMPLETED
    if isinstance(reply, BytesReply):
        response = Response(reply.content, reply.status, reply.headers, reply.media_type)
        await response(scope, receive, send)
        return Outcome.COMPLETED
    return await _deliver_stream(reply, receive, send)


async def _deliver_stream(reply: StreamReply, receive: Receive, send: Send) -> Outcome:
    outcome = Outcome.COMPLETED

    async def write(scope: anyio.CancelScope) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": stream_headers(reply.headers)})
        for event in (*reply.events, *reply.terminal):
            await send({"type": "http.response.body", "body": event.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        scope.cancel()

    async def listen(scope: anyio.CancelScope) -> None:
        nonlocal outcome
        while (await receive())["type"] != "http.disconnect":
            pass
        outcome = Outcome.CLIENT_DISCONNECTED
        scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(write, group.cancel_scope)
        group.start_soon(listen, group.cancel_scope)
    return outcome
