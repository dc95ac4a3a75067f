"""Turns a :mod:`reply <mockserver.wire.replies>` value into ASGI messages on the wire, shaped by the fault engine.

:class:`Shaping` says how: a delay before the first byte, a delay between stream events, and where to cut the
connection, drop the terminal event, slip in a malformed event or an error event. A stream still being sent when
the server is asked to stop goes on without its delays; one that has not finished within
:data:`STOP_GRACE_SECONDS` is cut (a shutdown never waits for a long stream). Noticing that the client went
away is not done here: the dispatcher runs a listener beside delivery that cancels it (see ``_dispatch``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.types import Scope, Send

from ..state.journal import Journal, JournalRecord, Outcome
from ..state.stopping import StopSignal
from ..wire.errors import error_body
from ..wire.json_codec import dumps
from ..wire.replies import BytesReply, JSONReply, LiveStreamReply, Reply, StreamReply, StreamSourceError
from ..wire.sse import SSEEvent, json_event
from .bookkeeping import SendEvents
from .connection import close_connection

__all__ = [
    "AT_ONCE",
    "SSE_MEDIA_TYPE",
    "Shaping",
    "StreamError",
    "Wire",
    "at_once_response",
    "deliver",
    "stream_headers",
]

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"

#: what a malformed stream event carries: the start of a JSON object that never ends
MALFORMED_DATA = b'{"id": "chatcmpl-malformed", "choices": [{"delta": {"content": "unterminated'


@dataclass(frozen=True, slots=True)
class StreamError:
    message: str
    type: str
    code: str | None


@dataclass(frozen=True, slots=True)
class Shaping:
    """How to deliver one reply. The defaults deliver it as it is, at once."""

    #: seconds before the first byte (a non-stream reply: before the whole reply)
    ttft: float = 0.0
    #: draws the pause before each stream event after the first
    itl: Callable[[], float] | None = None
    #: cut the connection after this many stream events (a non-stream body: after half of it)
    cut_after: int | None = None
    #: end the stream without its terminal events; a non-stream body: end cleanly after half of it
    drop_terminal: bool = False
    #: slip a non-JSON event in after this many events; a non-stream body: send half of it as a whole
    malformed_after: int | None = None
    #: send an error event after this many events, then end the stream
    error_after: int | None = None
    error: StreamError | None = None

    @property
    def events_back_to_back(self) -> bool:
        """Whether a stream's events go out one after another, with no pause or fault between them."""
        return self.itl is None and self.cut_after is None and self.malformed_after is None and self.error_after is None


# a value, never changed once made; not ``frozen`` only because that makes it several times slower to create
# (one or more are made for every request)
@dataclass(slots=True)
class Wire:
    """Where a reply goes: the request's scope (for the transport), ``send``, its journal record, and the
    server's stop signal."""

    scope: Scope
    send: Send
    record: JournalRecord
    journal: Journal
    stopping: StopSignal
    #: sends a run of stream events (each with more to come), counting them in the record as ``send`` would
    send_events: SendEvents

    async def cut(self) -> None:
        """Close the connection mid-response and wait to be cancelled by the disconnect listener."""
        self.journal.decide(self.record, Outcome.SERVER_CUT)
        close_connection(self.scope)
        await anyio.sleep_forever()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``, unless the server is stopping: then the reply goes on at once, so a shutdown
        finishes what is in flight without holding up on scripted delays."""
        with anyio.move_on_after(seconds):
            await self.stopping.wait()


def stream_headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    headers = {"content-type": SSE_MEDIA_TYPE, "cache-control": "no-cache", **extra}
    return _encode_headers(headers)


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


#: delivery as it is, at once (what ``Shaping()`` says; a reply delivered so goes out as :func:`at_once_response`)
AT_ONCE = Shaping()


async def deliver(reply: Reply, wire: Wire, shaping: Shaping = AT_ONCE) -> None:
    if isinstance(reply, LiveStreamReply):
        await _deliver_live_stream(reply, wire, shaping)
        return
    if shaping.ttft > 0:
        await wire.pause(shaping.ttft)
    if isinstance(reply, StreamReply):
        await _deliver_stream(reply, wire, shaping)
    elif shaping is AT_ONCE:
        headers, content = at_once_response(reply)
        await wire.send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await wire.send({"type": "http.response.body", "body": content, "more_body": False})
    elif isinstance(reply, JSONReply):
        await _deliver_body(dumps(reply.body), reply.status, reply.headers, "application/json", wire, shaping)
    else:
        await _deliver_body(reply.content, reply.status, reply.headers, reply.media_type, wire, shaping)


def at_once_response(reply: JSONReply | BytesReply) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers (content type and length, and the reply's own) and the whole body of a reply delivered as it
    is, at once."""
    if isinstance(reply, JSONReply):
        content = dumps(reply.body)
        if not reply.headers:  # the common case: no headers of the reply's own
            return [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))], content
        return _body_headers(reply.headers, "application/json", len(content)), content
    content = reply.content
    if not reply.headers:
        return [
            (b"content-type", reply.media_type.encode("latin-1")),
            (b"content-length", b"%d" % len(content)),
        ], content
    return _body_headers(reply.headers, reply.media_type, len(content)), content


def _body_headers(headers: dict[str, str], media_type: str, length: int) -> list[tuple[bytes, bytes]]:
    # a handler's own content-type wins, as with Starlette's responses
    all_headers = {"content-type": media_type, **{name.lower(): value for name, value in headers.items()}}
    all_headers["content-length"] = str(length)
    return _encode_headers(all_headers)


async def _deliver_body(
    content: bytes, status: int, headers: dict[str, str], media_type: str, wire: Wire, shaping: Shaping
) -> None:
    half = content[: len(content) // 2]
    faulty = shaping.drop_terminal or shaping.malformed_after is not None
    sent = half if faulty else content
    length = len(content) if shaping.cut_after is not None else len(sent)
    await wire.send(
        {"type": "http.response.start", "status": status, "headers": _body_headers(headers, media_type, length)}
    )
    if shaping.cut_after is not None:
        await wire.send({"type": "http.response.body", "body": half, "more_body": True})
        await wire.cut()
    await wire.send({"type": "http.response.body", "body": sent, "more_body": False})


#: how long a stream in flight when the server is asked to stop may go on to finish (then it is cut)
STOP_GRACE_SECONDS = 0.25


class _UntilStopping:
    """Says whether a stream may go on: yes, until :data:`STOP_GRACE_SECONDS` after the server was asked to
    stop."""

    __slots__ = ("_stop_by", "_stopping")

    def __init__(self, stopping: StopSignal) -> None:
        self._stopping = stopping
        self._stop_by: float | None = None

    def __call__(self) -> bool:
        if not self._stopping.stopping:
            return True
        now = time.monotonic()
        if self._stop_by is None:
            self._stop_by = now + STOP_GRACE_SECONDS
        return now < self._stop_by


async def _deliver_stream(reply: StreamReply, wire: Wire, shaping: Shaping) -> None:
    await wire.send({"type": "http.response.start", "status": 200, "headers": stream_headers(reply.headers)})
    if shaping.events_back_to_back:  # one loop sends and counts them all (a stream is hundreds of events)
        frames = iter(reply.frames if reply.frames is not None else (event.encode() for event in reply.events))
        await wire.send_events(frames, _UntilStopping(wire.stopping))
        if wire.stopping.stopping and next(frames, None) is not None:
            # the server is stopping and the stream is long: it finished what it could in the grace, and is cut
            # (a shutdown never waits for a long stream, nor does one end as if it were complete)
            await wire.cut()
        if not shaping.drop_terminal:
            await wire.send_events([event.encode() for event in reply.terminal])
        await wire.send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    # events are made as they are taken: whether they are named (the Responses API) is known from the first
    events = iter(reply.events)
    first = next(events, None)
    named = first is not None and first.event is not None
    position = 0
    for event in itertools.chain(() if first is None else (first,), events):
        if await _interject(position, named, wire, shaping):
            return
        if position > 0 and shaping.itl is not None:
            await wire.pause(shaping.itl())
        await _send_event(event, wire)
        position += 1
    if await _interject(position, named, wire, shaping):
        return
    if not shaping.drop_terminal:
        for event in reply.terminal:
            await _send_event(event, wire)
    await wire.send({"type": "http.response.body", "body": b"", "more_body": False})


#: events that mark a stream's proper end (dropped by a ``truncate`` fault)
_TERMINAL_DATA = b"[DONE]"
_TERMINAL_NAMES = frozenset({"response.completed", "response.incomplete", "response.failed"})


async def _deliver_live_stream(reply: LiveStreamReply, wire: Wire, shaping: Shaping) -> None:
    """Each event as it comes, shaped like any stream's; ``reply.events`` is closed however this ends."""
    events = reply.events
    try:
        if shaping.ttft > 0:
            await wire.pause(shaping.ttft)
        start = {"type": "http.response.start", "status": reply.status, "headers": stream_headers(reply.headers)}
        opened = not reply.headers_with_first_event
        if opened:
            await wire.send(start)
        position = 0
        named = False
        while True:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                break
            except StreamSourceError:
                if not opened:
                    await wire.send(start)
                await wire.cut()
            if not opened:
                opened = True
                await wire.send(start)
            if shaping.drop_terminal and (event.data == _TERMINAL_DATA or event.event in _TERMINAL_NAMES):
                continue
            named = named or event.event is not None
            if await _interject(position, named, wire, shaping):
                return
            if position > 0 and shaping.itl is not None:
                await wire.pause(shaping.itl())
            await _send_event(event, wire)
            position += 1
        if not opened:
            await wire.send(start)
        if await _interject(position, named, wire, shaping):
            return
        await wire.send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        with anyio.CancelScope(shield=True):
            await events.aclose()


async def _interject(position: int, named: bool, wire: Wire, shaping: Shaping) -> bool:
    """The faults due before event number ``position`` (counting from 0): a cut, a malformed event, an error.
    True when the stream is over."""
    if shaping.cut_after == position:
        await wire.cut()
    if shaping.malformed_after == position:
        await _send_event(SSEEvent(MALFORMED_DATA, "malformed" if named else None), wire)
    if shaping.error_after == position and shaping.error is not None:
        await _send_event(_error_event(shaping.error, named, position), wire)
        await wire.send({"type": "http.response.body", "body": b"", "more_body": False})
        return True
    return False


def _error_event(error: StreamError, named: bool, position: int) -> SSEEvent:
    if named:  # the Responses API: an ``error`` event with the fields at the top level
        payload = {"type": "error", "code": error.code, "message": error.message, "param": None}
        return json_event({**payload, "sequence_number": position}, event="error")
    return json_event(error_body(error.message, type=error.type, code=error.code))


async def _send_event(event: SSEEvent, wire: Wire) -> None:
    await wire.send_events((event.encode(),))
