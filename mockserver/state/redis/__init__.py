"""The server's state on Redis, shared by every worker and host that names the same Redis and key prefix
(``mockserver serve --state redis://host:port/db?prefix=NAME``; see docs/shared-state.md).

:class:`SharedState` holds the connection and the shared parts, each behind the API its in-memory twin has:
fault rules and their counts (:mod:`.rules`), rate-limit buckets (:mod:`.rate_limits`), the journal
(:mod:`.journal`), stored objects (:mod:`.store`) and the canned-replies queue. :class:`~mockserver.state.
server_state.ServerState` uses it in place of its own parts when the config's ``state`` is a Redis URL; the
request path awaits it where the in-memory state is called, and nowhere else.

Namespace: every key starts with ``<prefix>:``. The first worker to find the namespace empty seeds it from the
config (rules, canned replies, prepopulated objects); a worker starting later joins what is there. A reset (any
worker's control API) wipes the namespace and seeds it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar

import orjson

from ...config.settings import CannedReply, ServerConfig
from ...faults.engine import RequestFacts, Selection
from ...faults.rate_limits import RateLimits
from .connection import CONNECT_TIMEOUT, SOCKET_TIMEOUT, LoopClients, RedisLocation, StateUnavailable, unavailable
from .journal import SharedJournal
from .rate_limits import SharedRateLimits
from .rules import SharedRuleEngine
from .store import SharedMap, SharedResourceStore, SharedStores

__all__ = ["SharedState", "SharedStateError"]

_logger = logging.getLogger("mockserver")
#: how long a worker waits for another one to finish seeding the namespace
_SEEDING_WAIT = 30.0
#: keys a reset keeps: the worker numbers (ids stay distinct) and the rules' version (copies stay comparable)
_KEPT = ("workers", "rules:version")


class SharedStateError(RuntimeError):
    """The shared state cannot be set up (Redis unreachable at start)."""


class SharedState:
    """The connection to Redis and the shared parts of one server process's state."""

    def __init__(self, url: str, config: ServerConfig) -> None:
        self.location = location = RedisLocation.parse(url)
        self.sync = location.sync_client()
        #: the asyncio clients, one per event loop (the server's)
        self.clients = LoopClients(location)
        try:
            #: this process's number in the namespace: salts its id and draw generators, so workers never clash
            self.worker = str(self.sync.incr(location.key("workers")))
        except StateUnavailable as exc:
            self.sync.close()
            raise SharedStateError(f"cannot reach the shared state's Redis ({exc})") from None
        self.rules = SharedRuleEngine(
            location, self.sync, self.clients, seed=config.seed, salt=self.worker, max_rules=config.max_rules
        )
        self.journal = SharedJournal(
            location, self.sync, self.clients, size=config.journal_size, byte_budget=config.journal_bytes
        )
        self.rate_limits: SharedRateLimits | None = None
        self.files = SharedResourceStore(location, self.sync, "files")
        self.file_contents = SharedMap[bytes](location, self.sync, "file_contents", raw=True)
        self.fine_tuning_jobs = SharedResourceStore(location, self.sync, "fine_tuning_jobs")
        self.fine_tuning_events = SharedStores(location, self.sync, "fine_tuning_events")
        self.batches = SharedResourceStore(location, self.sync, "batches")
        self.chat_completions = SharedResourceStore(location, self.sync, "chat_completions")
        self.chat_completion_messages = SharedMap[list[dict[str, object]]](location, self.sync, "chat_messages")
        self.responses = SharedResourceStore(location, self.sync, "responses")
        self._replies_key = location.key("replies")
        self._seeded_key = location.key("seeded")
        #: per request: how many canned replies were queued when its rule was chosen (-1: not known)
        self._replies_queued: ContextVar[int] = ContextVar(f"replies_queued:{location.prefix}", default=-1)

    def __repr__(self) -> str:
        return f"<SharedState {self.location!r} worker={self.worker}>"

    def limit_to(self, limits: RateLimits | None) -> SharedRateLimits | None:
        """Use ``limits`` (the config's, which a reset may have changed) for the shared buckets."""
        if limits is None:
            self.rate_limits = None
        elif self.rate_limits is None or self.rate_limits.limits != limits:
            self.rate_limits = SharedRateLimits(self.location, self.clients, limits)
        return self.rate_limits

    # -- the namespace ------------------------------------------------------------------------------------------

    def seed_once(self, seed: Callable[[], None]) -> None:
        """Seed the namespace with ``seed`` if no worker has; else wait (bounded) until the one seeding is done."""
        try:
            if self.sync.set(self._seeded_key, "seeding", nx=True):
                seed()
                self.sync.set(self._seeded_key, "ready")
                return
            deadline = time.monotonic() + _SEEDING_WAIT
            while self.sync.get(self._seeded_key) == b"seeding":
                if time.monotonic() > deadline:
                    _logger.warning("shared state: another worker is still seeding after %ss; going on", _SEEDING_WAIT)
                    return
                time.sleep(0.01)
        except StateUnavailable as exc:
            raise SharedStateError(f"cannot reach the shared state's Redis ({exc})") from None

    def wipe_and_seed(self, seed: Callable[[], None]) -> None:
        """Forget everything in the namespace (but the worker numbers) and seed it again."""
        kept = {self.location.key(name).encode() for name in _KEPT}
        try:
            self.sync.set(self._seeded_key, "seeding")
            doomed = [key for key in self.sync.scan_iter(match=f"{self.location.prefix}:*", count=500)]
            doomed = [key for key in doomed if key not in kept and key != self._seeded_key.encode()]
            for start in range(0, len(doomed), 500):
                self.sync.unlink(*doomed[start : start + 500])
            self.sync.incr(self.location.key("rules", "version"))
            seed()
            self.sync.set(self._seeded_key, "ready")
        except StateUnavailable:
            raise unavailable() from None

    # -- the request path ---------------------------------------------------------------------------------------

    async def select(self, facts: RequestFacts) -> Selection | None:
        """The rule that fires for ``facts``; notes for the request whether any canned reply is queued."""
        selection, queued = await self.rules.select_shared(facts)
        self._replies_queued.set(queued)
        return selection

    def push_replies(self, replies: Iterable[CannedReply]) -> None:
        encoded = [reply.model_dump_json() for reply in replies]
        if not encoded:
            return
        try:
            self.sync.rpush(self._replies_key, *encoded)
        except StateUnavailable:
            raise unavailable() from None

    def next_reply(self) -> CannedReply | None:
        """The next canned reply; no round trip when the request's rule choice saw the queue empty."""
        if self._replies_queued.get() == 0:
            return None
        try:
            raw = self.sync.lpop(self._replies_key)
        except StateUnavailable:
            raise unavailable() from None
        if not isinstance(raw, bytes | str):
            return None
        return CannedReply.model_validate(orjson.loads(raw))

    def close(self) -> None:
        """Close the blocking client's connections (it connects again when used again); the asyncio clients are
        closed by their loops (:class:`~.connection.LoopClients`)."""
        self.sync.close()

    async def healthy(self) -> bool:
        """Whether Redis answers a ping now (bounded by the timeouts)."""
        try:
            client = await self.clients.current()
            return bool(await asyncio.wait_for(client.ping(), CONNECT_TIMEOUT + SOCKET_TIMEOUT))
        except (TimeoutError, *StateUnavailable):
            return False
