"""Everything the server remembers between requests, in one object that ``reset()`` restores."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..config.settings import CannedReply, ServerConfig
from ..faults.engine import RuleEngine
from ..faults.rate_limits import RateLimiter
from ..faults.rules import error_rate_rules
from ..recording.session import RecordingSession
from .counters import Stats
from .ids import IdFactory
from .journal import Journal
from .stopping import StopSignal
from .store import ResourceStore

__all__ = ["ServerState"]


class ServerState:
    """The fake's memory: stored objects, the canned-reply queue, the seeded id generator, and the fault
    engine's rules, journal and counters."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        clock: Callable[[], float] = time.time,
        prepopulate: Callable[[ServerState], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        #: fills the stores with ``config.prepopulate``'s items on every reset (the endpoints know their shapes)
        self._prepopulate = prepopulate
        self.rules = RuleEngine(config.seed, max_rules=config.max_rules)
        self.journal = Journal(
            config.journal_size,
            clock=clock,
            byte_budget=config.journal_bytes,
            longest_kept=config.journal_body_bytes,
        )
        self.stats = Stats()
        #: wakes hung requests when the server stops
        self.stopping = StopSignal()
        self.reset()

    def reset(self) -> None:
        """Forget everything created at run time (stored objects, scripted rules, the journal) and start again
        from the config: its prepopulated objects, canned replies and rules."""
        self.rules.reset((*self.config.rules, *error_rate_rules(self.config.error_rate)), seed=self.config.seed)
        self.journal.clear()
        self.stats.reset()
        #: draws latency samples, seeded so a run replays
        self.latency_rng = random.Random(f"latency:{self.config.seed}")
        #: full buckets again
        limits = self.config.rate_limits
        self.rate_limiter = RateLimiter(limits) if limits is not None and (limits.rpm or limits.tpm) else None
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
        if self._prepopulate is not None:
            self._prepopulate(self)
        #: the recorded answers waiting to be replayed and the cassette being recorded, when configured
        recording = self.config.recording
        self.recording = RecordingSession(recording) if recording is not None else None

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
