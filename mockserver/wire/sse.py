"""Server-sent event framing, as OpenAI writes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .json_codec import dumps

__all__ = ["DONE", "SSEEvent", "json_event"]


@dataclass(slots=True, unsafe_hash=True)
class SSEEvent:
    """One SSE event: an optional ``event:`` name and its ``data:`` payload (already serialized).

    A value, never changed once made; not a ``frozen`` dataclass only because that makes it several times slower
    to create, and a stream creates one per token."""

    data: bytes
    event: str | None = None

    def encode(self) -> bytes:
        if self.event is None:
            return b"data: " + self.data + b"\n\n"
        return b"event: " + self.event.encode() + b"\ndata: " + self.data + b"\n\n"


def json_event(payload: Any, *, event: str | None = None) -> SSEEvent:
    return SSEEvent(dumps(payload), event)


DONE = SSEEvent(b"[DONE]")
