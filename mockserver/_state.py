"""Everything the server remembers between requests, in one object that ``reset()`` restores."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ._config import CannedReply, ServerConfig
from ._ids import IdFactory
from ._store import ResourceStore

__all__ = ["ServerState"]


class ServerState:
    """The fake's memory: stored objects, the canned-reply queue, and the seeded id generator."""

    def __init__(self, config: ServerConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget everything created at run time and prepopulate again from the config."""
        from ._prepopulate import prepopulate

        self.ids = IdFactory(self.config.seed)
        self.files = ResourceStore()
        self.file_contents: dict[str, bytes] = {}
        self.fine_tuning_jobs = ResourceStore()
        self.fine_tuning_events: dict[str, ResourceStore] = {}
        self.batches = ResourceStore()
        self.chat_completions = ResourceStore()
        self.chat_completion_messages: dict[str, list[dict[str, Any]]] = {}
        self.responses = ResourceStore()
        self.replies: deque[CannedReply] = deque(_as_reply(reply) for reply in self.config.replies)
        prepopulate(self)

    def now(self) -> int:
        """Unix time in whole seconds, as OpenAI's ``created`` fields carry it."""
        return int(self.clock())

    def push_replies(self, *replies: CannedReply | str) -> None:
        self.replies.extend(_as_reply(reply) for reply in replies)

    def next_reply(self) -> CannedReply | None:
        """The next canned reply, if a test or the config queued one."""
        return self.replies.popleft() if self.replies else None


def _as_reply(reply: CannedReply | str) -> CannedReply:
    return CannedReply(content=reply) if isinstance(reply, str) else reply
