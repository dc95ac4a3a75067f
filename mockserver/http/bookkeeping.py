"""The bookkeeping of one API request: its journal record and the live counters, settled together.

A request is over (its outcome shown in the journal, its stream and in-flight counts dropped) either just before
its last byte goes out (so a client that has the whole reply already sees it settled) or, when it ends any other
way, once the dispatcher is done with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

import anyio
import anyio.lowlevel
from starlette.types import Message, Scope, Send

from ..state.counters import Stats
from ..state.journal import Journal, Outcome

__all__ = ["SLICE_SECONDS", "SendEvents", "Tally"]

#: the longest a stream's sending loop runs before it lets the event loop serve others
SLICE_SECONDS = 0.002
#: events between looks at the clock (and updates of the record's counts)
_CLOCK_EVERY = 32


class SendEvents(Protocol):
    """Sends a run of encoded stream events (each with more body to come), counted in the journal record;
    ``keep_going``, when given, is asked now and then whether to go on."""

    async def __call__(self, frames: Iterable[bytes], keep_going: Callable[[], bool] | None = None) -> None: ...


class Tally:
    def __init__(self, scope: Scope, request_id: str, journal: Journal, stats: Stats) -> None:
        self.journal = journal
        self._stats = stats
        #: the request's headers as sent, by lowercase name (the journal keeps them redacted and truncated)
        self.headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        self.record = journal.begin(
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=scope["headers"],
        )
        self._streaming = False
        self._finished = False
        stats.request_started()

    def stream_opened(self) -> None:
        with self.journal.lock:
            self.record.stream = True
        self._streaming = True
        self._stats.stream_opened()

    def finish(self) -> None:
        """Drop the counts and show the outcome; only the first call counts."""
        if self._finished:
            return
        self._finished = True
        if self._streaming:
            self._stats.stream_closed()
        self._stats.request_finished()
        self.journal.end(self.record)

    def recording_events(self, send: Send) -> SendEvents:
        """Sends each of a run of stream events (more body to come), keeping the counts ``recording`` would keep
        for them: an event's bytes before it goes out, the event once it has.

        A stream sends hundreds of events, so this is one loop without a wrapper call per event, and the counts
        go into the record (under the journal's lock) every :data:`_CLOCK_EVERY` events and when the run ends,
        however it ends: a reader sees them at most that many events behind while the stream runs, and exact
        once the run is over (before the stream's last byte, as with ``recording``).

        Events are made as they are taken (``frames`` may be a generator) and ``send`` only waits when the
        client reads slower than the events come, so the loop gives the event loop a turn every
        :data:`SLICE_SECONDS`: a long stream to a fast client never holds up other requests (nor the listener
        that notices the client leaving). Every :data:`_CLOCK_EVERY` events it also asks ``keep_going`` (if
        given) and stops early when that says no."""
        record, lock = self.record, self.journal.lock

        async def send_events(frames: Iterable[bytes], keep_going: Callable[[], bool] | None = None) -> None:
            events = size = 0  # what the record does not show yet
            slice_ends = time.perf_counter() + SLICE_SECONDS
            try:
                for count, frame in enumerate(frames, 1):
                    size += len(frame)
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
                    events += 1
                    if not count % _CLOCK_EVERY:
                        with lock:
                            record.events_sent += events
                            record.bytes_sent += size
                        events = size = 0
                        if time.perf_counter() >= slice_ends:
                            await anyio.lowlevel.checkpoint()
                            slice_ends = time.perf_counter() + SLICE_SECONDS
                        if keep_going is not None and not keep_going():
                            return
            finally:
                with lock:
                    record.events_sent += events
                    record.bytes_sent += size

        return send_events

    def recording(self, send: Send) -> Send:
        """``send`` that notes the status and the body bytes, and settles the request before its last byte."""
        record, journal = self.record, self.journal

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                with journal.lock:
                    record.status = message["status"]
            elif message["type"] == "http.response.body":
                with journal.lock:
                    record.bytes_sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    journal.decide(record, Outcome.COMPLETED)
                    self.finish()
                    if journal.shared is not None:  # shown through any worker before the client has it all
                        await journal.shared.written()
            await send(message)

        return recording_send
