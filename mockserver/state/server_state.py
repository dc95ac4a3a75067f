"""Everything the server remembers between requests, in one object that ``reset()`` restores."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ..config.settings import CannedReply, ServerConfig
from ..faults.engine import RuleEngine
from ..faults.rate_limits import RateLimiter
from ..faults.rules import Rule, error_rate_rules
from ..recording.session import RecordingSession
from .counters import Stats
from .ids import IdFactory
from .journal import Journal
from .stopping import StopSignal
from .store import ResourceStore

if TYPE_CHECKING:
    from .redis import SharedState

__all__ = ["ServerState"]


class ServerState:
    """The fake's memory: stored objects, the canned-reply queue, the seeded id generator, and the fault
    engine's rules, journal and counters."""

    rules: RuleEngine
    files: ResourceStore
    file_contents: MutableMapping[str, bytes]
    fine_tuning_jobs: ResourceStore
    fine_tuning_events: MutableMapping[str, ResourceStore]
    batches: ResourceStore
    chat_completions: ResourceStore
    chat_completion_messages: MutableMapping[str, list[dict[str, Any]]]
    responses: ResourceStore
    replies: deque[CannedReply]
    rate_limiter: RateLimiter | None

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
            # with a shared state, entries are kept on Redis: this process only fills in its requests' records
            config.journal_size if config.state == "memory" else 0,
            clock=clock,
            byte_budget=config.journal_bytes,
            longest_kept=config.journal_body_bytes,
        )
        self.stats = Stats()
        #: wakes hung requests when the server stops
        self.stopping = StopSignal()
        #: the state shared with other workers and hosts on Redis (``config.state``); ``None``: all of it is here
        self.shared: SharedState | None = None
        if config.state != "memory":
            self._share(config.state)
            return
        self.reset()

    def _share(self, url: str) -> None:
        """Use Redis for the shared parts, and seed its namespace unless another worker already has."""
        from .redis import SharedState

        shared = self.shared = SharedState(url, self.config)
        self.rules = shared.rules
        self.journal.shared = shared.journal if self.config.journal_size else None
        self.files, self.file_contents = shared.files, shared.file_contents
        self.fine_tuning_jobs, self.fine_tuning_events = shared.fine_tuning_jobs, shared.fine_tuning_events
        self.batches, self.chat_completions = shared.batches, shared.chat_completions
        self.chat_completion_messages, self.responses = shared.chat_completion_messages, shared.responses
        self._reset_local()
        shared.seed_once(self._seed_shared)

    def reset(self) -> None:
        """Forget everything created at run time (stored objects, scripted rules, the journal) and start again
        from the config: its prepopulated objects, canned replies and rules. With a shared state: for every
        worker sharing it."""
        self._reset_local()
        if self.shared is not None:
            self.shared.wipe_and_seed(self._seed_shared)
            return
        self.rules.reset(self._config_rules(), seed=self.config.seed)
        self.files = ResourceStore()
        self.file_contents = {}
        self.fine_tuning_jobs = ResourceStore()
        self.fine_tuning_events = {}
        self.batches = ResourceStore()
        self.chat_completions = ResourceStore()
        self.chat_completion_messages = {}
        self.responses = ResourceStore()
        self.replies = deque(_as_reply(reply) for reply in self.config.replies)
        if self._prepopulate is not None:
            self._prepopulate(self)

    def _config_rules(self) -> tuple[Rule, ...]:
        return (*self.config.rules, *error_rate_rules(self.config.error_rate))

    def _reset_local(self) -> None:
        """What is this process's own whatever the backend: its journal records, counters and generators."""
        self.journal.clear()
        self.stats.reset()
        #: draws latency samples, seeded so a run replays
        self.latency_rng = random.Random(f"latency:{self.config.seed}")
        #: full buckets again (with a shared state: a view of the shared buckets, for the headers)
        limits = self.config.rate_limits
        if limits is not None and not (limits.rpm or limits.tpm):
            limits = None
        if self.shared is not None:
            shared_limits = self.shared.limit_to(limits)
            self.rate_limiter = shared_limits.view if shared_limits is not None else None
        else:
            self.rate_limiter = RateLimiter(limits) if limits is not None else None
        # workers sharing a state draw distinct ids (each from its own seeded sequence)
        self.ids = IdFactory(self.config.seed, salt="" if self.shared is None else f":{self.shared.worker}")
        #: the recorded answers waiting to be replayed and the cassette being recorded, when configured
        recording = self.config.recording
        self.recording = RecordingSession(recording) if recording is not None else None

    def _seed_shared(self) -> None:
        assert self.shared is not None
        self.rules.reset(self._config_rules(), seed=self.config.seed)
        self.shared.push_replies(_as_reply(reply) for reply in self.config.replies)
        if self._prepopulate is not None:
            self._prepopulate(self)

    def now(self) -> int:
        """Unix time in whole seconds, as OpenAI's ``created`` fields carry it."""
        return int(self.clock())

    def push_replies(self, *replies: CannedReply | str) -> None:
        if self.shared is not None:
            self.shared.push_replies(_as_reply(reply) for reply in replies)
            return
        self.replies.extend(_as_reply(reply) for reply in replies)

    def next_reply(self) -> CannedReply | None:
        """The next canned reply, if a test or the config queued one."""
        if self.shared is not None:
            return self.shared.next_reply()
        return self.replies.popleft() if self.replies else None

    def events_for(self, job_id: str) -> ResourceStore:
        """The events store of fine-tuning job ``job_id`` (made, empty, on first use)."""
        if self.shared is not None:
            return self.shared.fine_tuning_events.store(job_id)
        return self.fine_tuning_events.setdefault(job_id, ResourceStore())


def _as_reply(reply: CannedReply | str) -> CannedReply:
    return CannedReply(content=reply) if isinstance(reply, str) else reply
