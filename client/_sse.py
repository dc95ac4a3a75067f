"""An incremental Server-Sent Events decoder working on bytes.

Follows the SSE parsing rules: lines end at CR, LF or CRLF (a CR at the end of one chunk and an LF at the start of
the next are one line ending); lines starting with ``:`` are comments; a field is split at the first ``:`` and one
leading space is stripped from its value; ``data`` lines are joined with "\\n"; a blank line dispatches the event;
``event``, ``id`` and ``retry`` are kept; a UTF-8 BOM at the very start is dropped. An event without any ``data``
line is not dispatched (the spec's rule). ``id`` persists across events until changed, as the spec says.
``data`` stays bytes so JSON decoders read it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


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

    __slots__ = ("_data", "_event", "_last_id", "_partial", "_retry", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._partial = b""
        self._skip_lf = False
        self._started = False
        self._data: list[bytes] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._partial:
            chunk = self._partial + chunk
            self._partial = b""
        if not self._started:
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._partial = chunk
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                if not chunk:
                    return []
        lines = chunk.splitlines()
        last = chunk[-1:]
        if last == b"\r":
            self._skip_lf = True
        elif last != b"\n":
            self._partial = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = None
                continue
            if line[:6] == b"data: ":
                self._data.append(line[6:])
                continue
            self._field(line)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of the body: a final line without a line ending is processed; an event not closed by a blank line
        is discarded, as the spec says."""
        if self._partial:
            partial, self._partial = self._partial, b""
            if partial != _BOM[: len(partial)] or self._started:
                self._field(partial)
        self._data = []
        self._event = None
        return []

    def _field(self, line: bytes) -> None:
        if line[:1] == b":":
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
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
        self._event = None
        self._retry = None
        return event
