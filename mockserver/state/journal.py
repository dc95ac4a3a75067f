"""The request journal: every API request the server saw, how it was answered and how it ended.

A capped ring buffer (``config.journal_size``). The dispatcher fills in a mutable :class:`JournalRecord` while
the request runs, and shows its outcome only once the request is over and its counters are settled (so a reader
who sees an outcome sees ``stats()`` without that request). Readers (tests, ``GET /_mock/journal``) get frozen
:class:`JournalEntry` snapshots. Writers run on the server's event loop and readers on any thread, so both take
the journal's lock.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Journal", "JournalEntry", "JournalRecord", "Outcome"]


class Outcome(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLIENT_DISCONNECTED = "client_disconnected"
    SERVER_CUT = "server_cut"
    HANG_ABANDONED = "hang_abandoned"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request, as the journal reports it (the JSON form has the same keys)."""

    seq: int
    request_id: str
    #: ``time.time()`` when the request arrived
    received_at: float
    method: str
    path: str
    query: str
    #: lowercased name -> value
    headers: Mapping[str, str]
    #: the parsed JSON body, or ``None``
    body: Any
    #: the rule that fired (``"header"`` for an ``X-Mock-Fault`` header), or ``None``
    rule_id: str | None
    #: that rule's action type
    action: str | None
    status: int | None
    stream: bool
    events_sent: int
    #: response body bytes written
    bytes_sent: int
    outcome: str
    ended_at: float | None
    #: when the server noticed the client had gone (streams and hangs)
    disconnect_noticed_at: float | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["headers"] = dict(self.headers)
        return data

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.received_at


@dataclass(slots=True)
class JournalRecord:
    """The live, mutable record of a request in flight; only the dispatcher writes it."""

    seq: int
    request_id: str
    received_at: float
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    rule_id: str | None = None
    action: str | None = None
    status: int | None = None
    stream: bool = False
    events_sent: int = 0
    bytes_sent: int = 0
    outcome: Outcome = Outcome.IN_PROGRESS
    ended_at: float | None = None
    disconnect_noticed_at: float | None = None
    #: how the request ends, decided while it runs and shown (as ``outcome``) once it is over
    decided: Outcome | None = None

    def snapshot(self) -> JournalEntry:
        return JournalEntry(
            seq=self.seq,
            request_id=self.request_id,
            received_at=self.received_at,
            method=self.method,
            path=self.path,
            query=self.query,
            headers=dict(self.headers),
            body=self.body,
            rule_id=self.rule_id,
            action=self.action,
            status=self.status,
            stream=self.stream,
            events_sent=self.events_sent,
            bytes_sent=self.bytes_sent,
            outcome=str(self.outcome),
            ended_at=self.ended_at,
            disconnect_noticed_at=self.disconnect_noticed_at,
        )


class Journal:
    """The last ``size`` requests, oldest first."""

    def __init__(self, size: int, *, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._records: deque[JournalRecord] = deque(maxlen=size)
        self._seq = 0
        self._clock = clock

    @property
    def lock(self) -> threading.Lock:
        """Held while a record changes, so a snapshot never sees half an update."""
        return self._lock

    def now(self) -> float:
        return self._clock()

    def begin(
        self, *, request_id: str, method: str, path: str, query: str, headers: dict[str, str] | None = None
    ) -> JournalRecord:
        with self._lock:
            self._seq += 1
            record = JournalRecord(self._seq, request_id, self._clock(), method, path, query, headers or {})
            if self._records.maxlen != 0:
                self._records.append(record)
            return record

    def decide(self, record: JournalRecord, outcome: Outcome) -> None:
        """Note how ``record`` ends (the first decision wins); it shows once the request is over (:meth:`end`)."""
        with self._lock:
            if record.decided is None:
                record.decided = outcome

    def client_gone(self, record: JournalRecord, outcome: Outcome) -> None:
        """The server noticed the client had gone: note when, and decide ``outcome`` unless already decided."""
        with self._lock:
            if record.decided is None:
                record.decided = outcome
                record.disconnect_noticed_at = self._clock()

    def end(self, record: JournalRecord) -> None:
        """The request is over, its counters settled: show its outcome (``completed`` unless decided)."""
        with self._lock:
            if record.outcome is Outcome.IN_PROGRESS:
                record.outcome = record.decided or Outcome.COMPLETED
                record.ended_at = self._clock()

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return [record.snapshot() for record in self._records]

    def clear(self) -> None:
        """Forget every request and start numbering from 1 again."""
        with self._lock:
            self._records.clear()
            self._seq = 0
