"""The journal on Redis: every worker's finished requests in one capped list.

Each worker still fills in its requests' live records in its own :class:`~mockserver.state.journal.Journal`
(redaction and truncation happen there, as today); when a request is over its entry is sent to Redis, where a
script numbers it (``seq``, one sequence for the namespace), appends it and evicts the oldest entries past
``journal_size`` entries or ``journal_bytes`` bytes (each entry costs what it costs the in-memory journal). The
entry is written before the request's last byte goes out, so a client that has its reply finds it in the journal
through any worker. Entries are in the order requests ended; a request still in progress is not shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import orjson
import redis

from ..journal import JournalEntry, JournalRecord
from . import scripts
from .connection import SOCKET_TIMEOUT, LoopClients, RedisLocation, StateUnavailable, unavailable

#: what a script argument may be
_Arg = str | int | float | bytes

__all__ = ["SharedJournal"]

#: what an entry sends to Redis: every field but ``seq`` (Redis numbers the entries)
_FIELDS = tuple(field.name for field in fields(JournalEntry) if field.name != "seq")

_logger = logging.getLogger("mockserver")


class SharedJournal:
    def __init__(
        self,
        location: RedisLocation,
        sync: redis.Redis,
        clients: LoopClients,
        *,
        size: int,
        byte_budget: int | None,
    ) -> None:
        self._keys = [location.key("journal", name) for name in ("entries", "seq", "bytes")]
        self._sync = sync
        self._clients = clients
        self._add = clients.template.register_script(scripts.JOURNAL_ADD)
        self._add_blocking = sync.register_script(scripts.JOURNAL_ADD)
        self._limits = [size, byte_budget if byte_budget is not None else -1]
        #: (cost, entry JSON without ``seq``) waiting to be written
        self._pending: deque[tuple[int, bytes]] = deque()
        self._writer: asyncio.Task[None] | None = None

    def submit(self, record: JournalRecord, entry: JournalEntry) -> None:
        """Queue a finished request's entry for Redis (written by a task on the running loop)."""
        # the entry's JSON form (as ``to_json``, without a deep copy: the snapshot's values are its own)
        data = {name: getattr(entry, name) for name in _FIELDS}
        self._pending.append((record.cost, orjson.dumps(data)))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on a loop (a request finished from another thread): write it now
            self._write_blocking()
            return
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())

    async def written(self) -> None:
        """Wait (bounded) until every entry queued so far is in Redis."""
        writer = self._writer
        if writer is not None and not writer.done():
            await asyncio.wait({writer}, timeout=SOCKET_TIMEOUT)

    def _batch(self) -> list[_Arg]:
        args: list[_Arg] = [*self._limits]
        while self._pending:
            cost, data = self._pending.popleft()
            args += [cost, data]
        return args

    async def _write(self) -> None:
        while self._pending:
            try:
                client = await self._clients.current()
                await self._add(keys=self._keys, args=self._batch(), client=client)
            except StateUnavailable:
                _logger.warning("shared journal: entries lost while Redis is away")

    def _write_blocking(self) -> None:
        try:
            self._add_blocking(keys=self._keys, args=self._batch())
        except StateUnavailable:
            _logger.warning("shared journal: entries lost while Redis is away")

    def entries(self) -> list[JournalEntry]:
        try:
            raw = self._sync.lrange(self._keys[0], 0, -1)
        except StateUnavailable:
            raise unavailable() from None
        return [_entry(orjson.loads(_bytes(item).partition(b"|")[2])) for item in raw]


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _entry(data: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(**data)
