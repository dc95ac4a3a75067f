"""An incremental Server-Sent Events decoder working on bytes.

Follows the SSE parsing rules: lines end at CR, LF or CRLF (a CR at the end of one chunk and an LF at the start of
the next are one line ending); lines starting with ``:`` are comments; a field is split at the first ``:`` and one
leading space is stripped from its value; ``data`` lines are joined with "\\n"; a blank line dispatches the event;
``event``, ``id`` and ``retry`` are kept; a UTF-8 BOM at the very start is dropped. An event without any ``data``
line is not dispatched (the spec's rule). ``id`` persists across events until changed, as the spec says.
``data`` stays bytes so JSON decoders read it directly.

Decoding is linear in the bytes received: a chunk without a line ending is only kept (the partial line is joined
once, when its line ends), so a line spread over many chunks costs no more than one that arrives whole. One event
may hold at most ``max_event_bytes`` (its data lines and the line being received): past that :meth:`SSEDecoder.feed`
raises :class:`EventTooLarge`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "EventTooLarge", "SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
#: the default cap on one event's size: far above any real event, low enough that a hostile stream cannot exhaust
#: memory one event at a time
DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024


class EventTooLarge(ValueError):
    """One event (or one line) of the stream is larger than the decoder's ``max_event_bytes``."""


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: bytes
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class SSEDecoder:
    """Feed it chunks as they arrive; it returns the events each chunk completes."""

    __slots__ = (
        "_data",
        "_data_size",
        "_event",
        "_failure",
        "_last_id",
        "_max_event_bytes",
        "_partial",
        "_partial_size",
        "_retry",
        "_skip_lf",
        "_started",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max_event_bytes = max_event_bytes
        #: the line being received, in the pieces it arrived in
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._data_size = 0
        #: an event grew past the cap after others completed in the same chunk: raised on the next call
        self._failure: EventTooLarge | None = None
        self._skip_lf = False
        self._started = False
        self._data: list[bytes] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._failure is not None:
            raise self._failure
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        if b"\n" not in chunk and b"\r" not in chunk:  # the line goes on: keep the piece, join it once the line ends
            self._keep(chunk)
            return []
        if self._partial:
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial = []
            self._partial_size = 0
        if not self._started:  # the first line is complete: a BOM that starts it is dropped
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                if not chunk:
                    return []
        lines = chunk.splitlines()
        last = chunk[-1:]
        partial = None
        if last == b"\r":
            self._skip_lf = True
        elif last != b"\n":
            partial = lines.pop()
        events: list[ServerSentEvent] = []
        try:
            self._take_lines(lines, events)
            if partial is not None:
                self._keep(partial)
        except EventTooLarge as failure:
            if not events:
                raise
            self._failure = failure  # the events completed before it are delivered first
        return events

    def _take_lines(self, lines: list[bytes], events: list[ServerSentEvent]) -> None:
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = None
                    self._data_size = 0
                continue
            if line[:6] == b"data: ":
                self._add_data(line[6:])
                continue
            self._field(line)

    def _keep(self, piece: bytes) -> None:
        self._partial.append(piece)
        self._partial_size += len(piece)
        self._check_size()

    def _add_data(self, value: bytes) -> None:
        self._data.append(value)
        self._data_size += len(value) + 1
        self._check_size()

    def _check_size(self) -> None:
        size = self._data_size + self._partial_size
        if size > self._max_event_bytes:
            raise EventTooLarge(f"a stream event is larger than {self._max_event_bytes} bytes")

    def close(self) -> list[ServerSentEvent]:
        """End of the body: a final line without a line ending is processed; an event not closed by a blank line
        is discarded, as the spec says."""
        if self._partial:
            partial = b"".join(self._partial)
            self._partial = []
            self._partial_size = 0
            if partial != _BOM[: len(partial)] or self._started:
                self._field(partial)
        self._data = []
        self._data_size = 0
        self._event = None
        return []

    def _field(self, line: bytes) -> None:
        if line[:1] == b":":
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._add_data(value)
        elif name == b"event":
            self._event = value.decode("utf-8", errors="replace")
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", errors="replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = ServerSentEvent(data=data, event=self._event, id=self._last_id, retry=self._retry)
        self._data = []
        self._data_size = 0
        self._event = None
        self._retry = None
        return event
