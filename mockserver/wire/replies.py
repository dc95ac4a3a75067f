"""What a handler returns: a plain value the dispatcher delivers (and the fault engine may reshape)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .sse import SSEEvent

__all__ = ["BytesReply", "JSONReply", "Reply", "StreamReply"]


@dataclass(frozen=True, slots=True)
class JSONReply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: tokens the exchange cost (prompt + completion), for rate-limit accounting
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class BytesReply:
    content: bytes
    media_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamReply:
    """An SSE stream: ``events`` are the body of the stream, ``terminal`` the events that mark its proper end
    (``data: [DONE]`` for chat and completions, ``response.completed`` for the Responses API).

    ``events`` may be an iterator that makes each event as it is taken (delivered once): a long stream then
    never exists whole in memory."""

    events: Iterable[SSEEvent]
    terminal: tuple[SSEEvent, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    tokens: int = 0


Reply = JSONReply | BytesReply | StreamReply
