"""Recorded exchanges as replies: the recorded status, headers and body, or the recorded stream at its recorded
pace (scaled by the replay speed), as values the dispatcher delivers and the fault engine shapes."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import anyio

from ..state.stopping import StopSignal
from ..wire.json_codec import dumps
from ..wire.replies import BytesReply, JSONReply, LiveStreamReply, Reply
from ..wire.sse import SSEEvent
from .cassette import Interaction, RecordedEvent, RecordedResponse

__all__ = ["replayed_reply", "sse_event"]

#: a stream whose first event came this soon after its headers has them sent together
HEADERS_WITH_FIRST_EVENT_MS = 5.0
#: a wait shorter than this is not worth a timer (uvloop's resolution is 1 ms; a busy machine wakes later still)
_SHORTEST_WAIT = 0.001

#: response headers the server sets itself on every reply (a recorded value would repeat them)
_OWN_HEADERS = frozenset(
    {"content-type", "content-length", "x-request-id", "openai-version", "openai-processing-ms", "date", "server"}
)


def sse_event(event: RecordedEvent) -> SSEEvent:
    """The event as it goes on the wire (text of several lines: one ``data:`` line each)."""
    data = event.text.encode().replace(b"\n", b"\ndata: ") if event.text is not None else dumps(event.data)
    return SSEEvent(data, event.event)


def replay_headers(response: RecordedResponse) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower() not in _OWN_HEADERS}


async def replayed_reply(interaction: Interaction, speed: float, stopping: StopSignal, started: float) -> Reply:
    """The recorded answer; at ``speed`` > 0 it is ready ``headers_ms`` (a body: ``elapsed_ms``) after
    ``started`` (a ``time.perf_counter()`` value), scaled by ``speed``."""
    response = interaction.response
    headers = replay_headers(response)
    if response.events is not None:
        first = response.events[0].at_ms if response.events else response.headers_ms
        if first - response.headers_ms <= HEADERS_WITH_FIRST_EVENT_MS:
            # recorded as arriving together: sent together, after one wait (a second wait, for the headers
            # first, would add the wake-up delay of a busy machine once more)
            events = _paced(response.events, 0.0, speed, stopping)
            return LiveStreamReply(events, status=response.status, headers=headers, headers_with_first_event=True)
        await _pause_until(started + response.headers_ms * speed / 1000, stopping)
        events = _paced(response.events, response.headers_ms, speed, stopping)
        return LiveStreamReply(events, status=response.status, headers=headers)
    await _pause_until(started + response.elapsed_ms * speed / 1000, stopping)
    content_type = response.content_type
    if response.json_body is not None and "json" in content_type:
        return JSONReply(response.json_body, response.status, headers)
    return BytesReply(response.body_bytes(), content_type, response.status, headers)


async def _paced(
    events: tuple[RecordedEvent, ...], headers_ms: float, speed: float, stopping: StopSignal
) -> AsyncGenerator[SSEEvent, None]:
    """The events, each at its recorded time: the clock starts when the first is asked for, ``headers_ms`` after
    the request (so a delay the fault engine adds before the stream shifts it, whole)."""
    anchor = time.perf_counter() - headers_ms * speed / 1000
    for event in events:
        if speed > 0:
            await _pause_until(anchor + event.at_ms * speed / 1000, stopping)
        yield sse_event(event)


async def _pause_until(deadline: float, stopping: StopSignal) -> None:
    """Wait until ``deadline`` (``time.perf_counter()``), unless the server is stopping."""
    delay = deadline - time.perf_counter()
    if delay < _SHORTEST_WAIT or stopping.stopping:
        return
    with anyio.move_on_after(delay):
        await stopping.wait()
