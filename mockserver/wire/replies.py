"""What a handler returns: a plain value the dispatcher delivers (and the fault engine may reshape).

Each is a frozen ``msgspec`` struct rather than a frozen dataclass: as immutable, and several times faster to make
(one is made for every request)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any

import msgspec

from .sse import SSEEvent

__all__ = ["BytesReply", "JSONReply", "LiveStreamReply", "Reply", "StreamReply", "StreamSourceError"]


class JSONReply(msgspec.Struct, frozen=True):
    #: the value sent as JSON (an :data:`~.json_codec.Encoded` value is sent as it is encoded)
    body: Any
    status: int = 200
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    #: tokens the exchange cost (prompt + completion), for rate-limit accounting
    tokens: int = 0


class BytesReply(msgspec.Struct, frozen=True):
    content: bytes
    media_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class StreamReply(msgspec.Struct, frozen=True):
    """An SSE stream: ``events`` are the body of the stream, ``terminal`` the events that mark its proper end
    (``data: [DONE]`` for chat and completions, ``response.completed`` for the Responses API).

    ``events`` may be an iterator that makes each event as it is taken (delivered once): a long stream then
    never exists whole in memory."""

    events: Iterable[SSEEvent]
    terminal: tuple[SSEEvent, ...] = ()
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    tokens: int = 0
    #: ``events`` already encoded (the same bytes, made as they are taken), for a stream sent as it is; ``None``:
    #: encode ``events``. Delivery takes one or the other, never both
    frames: Iterable[bytes] | None = None


class LiveStreamReply(msgspec.Struct, frozen=True):
    """An SSE stream whose events are not known up front: relayed from an upstream as they arrive, or replayed
    at their recorded pace. Delivery takes them one by one (the fault engine shapes them as any stream's) and
    closes ``events`` however the stream ends."""

    events: AsyncGenerator[SSEEvent, None]
    status: int = 200
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    tokens: int = 0
    #: send the status and headers together with the first event, not before waiting for it
    headers_with_first_event: bool = False


class StreamSourceError(Exception):
    """Raised by a live stream's events when they cannot go on (the upstream broke off): the client's
    connection is then cut, as the upstream's was."""


Reply = JSONReply | BytesReply | StreamReply | LiveStreamReply
