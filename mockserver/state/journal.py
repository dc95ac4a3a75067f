"""The request journal: every API request the server saw, how it was answered and how it ended.

A ring buffer capped twice: ``config.journal_size`` entries and ``config.journal_bytes`` bytes of what the
entries keep of their requests (bodies as received, header names and values); past either cap the oldest entries
go first. A body or header value longer than ``config.journal_body_bytes`` is kept truncated, with its length and
its SHA-256 digest (``JournalEntry.body_truncated``, ``body_length``, ``body_sha256``; a header value ends in
``…[truncated N bytes sha256:HEX]``). Secrets are never kept: ``Authorization``, ``api-key`` and the control token
show only their scheme and last four characters. The dispatcher fills in a mutable :class:`JournalRecord` while
the request runs, and shows its outcome only once the request is over and its counters are settled (so a reader
who sees an outcome sees ``stats()`` without that request). Readers (tests, ``GET /_mock/journal``) get frozen
:class:`JournalEntry` snapshots. Writers run on the server's event loop and readers on any thread, so both take
the journal's lock.
"""

from __future__ import annotations

import enum
import hashlib
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import msgspec
import orjson

__all__ = ["REDACTED_HEADERS", "Journal", "JournalEntry", "JournalRecord", "Outcome", "SharedEntries", "redact_secret"]

#: headers whose values are secrets: the journal keeps their scheme and last four characters only
REDACTED_HEADERS = frozenset({"authorization", "api-key", "x-mock-control-token", "proxy-authorization"})
#: what an entry costs besides its body and headers (its fields and bookkeeping), for the byte budget
_ENTRY_OVERHEAD = 512

#: a request's headers as its head gave them: ``(name, value)`` pairs of bytes, names lowercase (ASGI's
#: ``scope["headers"]``)
RawHeaders = Sequence[tuple[bytes, bytes]]
#: a record's headers as kept: the head's pairs with secrets redacted (decoded when read), or - when a value was
#: too long and is kept truncated - by name as text
KeptHeaders = list[tuple[bytes, bytes]] | dict[str, str]


#: what ``str.strip`` strips from a header's text (latin-1): the whitespace among the 256 byte values
_WHITESPACE = bytes(code for code in range(256) if chr(code).isspace())


def redact_secret(value: bytes) -> bytes:
    """``b"Bearer sk-abc...wxyz"`` -> ``b"Bearer ***wxyz"``: the scheme (if any) and the last four characters
    (none of a secret shorter than 12, so a short one is never shown nearly whole)."""
    scheme, space, secret = value.strip(_WHITESPACE).rpartition(b" ")
    return b"".join((scheme, space, b"***", secret[-4:] if len(secret) >= 12 else b""))  # a third cheaper than a format


def _truncated_text(value: str, limit: int) -> str:
    raw = value.encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(raw).hexdigest()
    return f"{value[:limit]}…[truncated {len(raw)} bytes sha256:{digest}]"


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
    #: the body was longer than the journal keeps: ``body`` is then ``None`` and ``body_head`` its first bytes
    body_truncated: bool = False
    #: the body's length in bytes, as received
    body_length: int = 0
    #: the SHA-256 of the whole body (hex), when it was truncated
    body_sha256: str | None = None
    #: the first ``journal_body_bytes`` of a truncated body, as text
    body_head: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["headers"] = dict(self.headers)
        return data

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.received_at


# a msgspec struct rather than a dataclass: one is made for every request, several times faster; not tracked by
# the garbage collector (it refers to no container that could refer back to it)
class JournalRecord(msgspec.Struct, gc=False):
    """The live, mutable record of a request in flight; only the dispatcher writes it."""

    seq: int
    request_id: str
    received_at: float
    method: str
    path: str
    query: str
    headers: KeptHeaders = msgspec.field(default_factory=list)
    #: the body as kept: whole (and parsed when read), or its head when it was truncated
    body_bytes: bytes = b""
    body_length: int = 0
    body_sha256: str | None = None
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
    #: what the record counts against the journal's byte budget
    cost: int = _ENTRY_OVERHEAD
    #: whether the journal holds the record (and counts its cost)
    held: bool = False

    @property
    def body(self) -> Any:
        """The parsed JSON body, or ``None`` (not JSON, none, or truncated)."""
        if not self.body_bytes or self.body_sha256 is not None:
            return None
        try:
            return orjson.loads(self.body_bytes)
        except orjson.JSONDecodeError:
            return None

    def snapshot(self) -> JournalEntry:
        truncated = self.body_sha256 is not None
        return JournalEntry(
            seq=self.seq,
            request_id=self.request_id,
            received_at=self.received_at,
            method=self.method,
            path=self.path,
            query=self.query,
            headers=_read_headers(self.headers),
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
            body_truncated=truncated,
            body_length=self.body_length,
            body_sha256=self.body_sha256,
            body_head=self.body_bytes.decode("utf-8", "replace") if truncated else None,
        )


def _read_headers(kept: KeptHeaders) -> dict[str, str]:
    """A record's headers by lowercase name (the last of a repeated one), as text."""
    if isinstance(kept, dict):
        return dict(kept)
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in kept}


class SharedEntries(Protocol):
    """A journal shared between workers (:class:`mockserver.state.redis.journal.SharedJournal`)."""

    def submit(self, record: JournalRecord, entry: JournalEntry) -> None: ...

    async def written(self) -> None: ...

    def entries(self) -> list[JournalEntry]: ...


class Journal:
    """The last ``size`` requests (and at most ``byte_budget`` bytes of them), oldest first."""

    def __init__(
        self,
        size: int,
        *,
        clock: Callable[[], float],
        byte_budget: int | None = None,
        longest_kept: int = 64 * 1024,
        secrets: frozenset[str] = REDACTED_HEADERS,
    ) -> None:
        self._lock = threading.Lock()
        self._records: deque[JournalRecord] = deque()
        self._size = size
        self._byte_budget = byte_budget
        self._longest_kept = longest_kept
        self._secrets = secrets
        self._secrets_raw = frozenset(name.encode("latin-1") for name in secrets)
        self._bytes = 0
        self._seq = 0
        self._clock = clock
        #: where finished requests' entries go when the journal is shared between workers (``None``: this one)
        self.shared: SharedEntries | None = None

    @property
    def bytes_kept(self) -> int:
        """What the entries held now count against the byte budget."""
        with self._lock:
            return self._bytes

    @property
    def lock(self) -> threading.Lock:
        """Held while a record changes, so a snapshot never sees half an update."""
        return self._lock

    def now(self) -> float:
        return self._clock()

    def begin(
        self,
        *,
        request_id: str,
        method: str,
        path: str,
        query: str,
        headers: RawHeaders = (),
    ) -> JournalRecord:
        """A new record for a request that has just arrived, held at the journal's end."""
        kept_headers, size = self._kept_headers(headers)
        with self._lock:
            self._seq += 1
            record = JournalRecord(
                self._seq, request_id, self._clock(), method, path, query, kept_headers, cost=_ENTRY_OVERHEAD + size
            )
            self._hold_locked(record)
            return record

    def keep_body(self, record: JournalRecord, raw: bytes) -> None:
        """Note ``record``'s body as received: whole, or its head with its length and digest when it is longer
        than the journal keeps."""
        kept, digest = self._kept_body(raw)
        with self._lock:
            record.body_bytes, record.body_length, record.body_sha256 = kept, len(raw), digest
            record.cost += len(kept)
            if record.held:
                self._bytes += len(kept)
                self._evict_locked()

    def answered(
        self,
        *,
        request_id: str,
        method: str,
        path: str,
        query: str,
        headers: RawHeaders,
        body: bytes,
        status: int | None,
        bytes_sent: int,
        received_at: float,
        outcome: Outcome = Outcome.COMPLETED,
    ) -> None:
        """Note, in one step, a request answered at once: what :meth:`begin`, :meth:`keep_body`, the status and
        bytes sent, :meth:`decide` and :meth:`end` note one by one for a request in flight."""
        kept_headers, size = self._kept_headers(headers)
        kept, digest = self._kept_body(body)
        ended_at = self._clock()
        with self._lock:
            self._seq += 1
            record = JournalRecord(
                self._seq,
                request_id,
                received_at,
                method,
                path,
                query,
                kept_headers,
                body_bytes=kept,
                body_length=len(body),
                body_sha256=digest,
                status=status,
                bytes_sent=bytes_sent,
                outcome=outcome,
                decided=outcome,
                ended_at=ended_at,
                cost=_ENTRY_OVERHEAD + size + len(kept),
            )
            self._hold_locked(record)
            if self.shared is None:
                return
            entry = record.snapshot()
        self.shared.submit(record, entry)

    def _hold_locked(self, record: JournalRecord) -> None:
        """Keep ``record`` at the journal's end (unless the journal keeps none)."""
        if self._size != 0:
            self._records.append(record)
            record.held = True
            self._bytes += record.cost
            self._evict_locked()

    def _kept_body(self, raw: bytes) -> tuple[bytes, str | None]:
        """What is kept of a body: all of it, or its head and the whole one's digest."""
        if len(raw) > self._longest_kept:
            return raw[: self._longest_kept], hashlib.sha256(raw).hexdigest()
        return raw, None

    def _kept_headers(self, headers: RawHeaders) -> tuple[KeptHeaders, int]:
        """``headers`` with secrets redacted and values longer than the journal keeps truncated, and what they
        count against the byte budget (their names' and values' lengths). Most requests have no value too long:
        their pairs are kept as bytes, decoded only when read."""
        kept = list(headers)
        secrets = self._secrets_raw
        size = 0
        for index, (name, value) in enumerate(kept):
            if name.lower() in secrets:
                value = redact_secret(value)
                kept[index] = (name, value)
            size += len(name) + len(value)
        longest = self._longest_kept
        if size <= longest:  # no value can be too long
            return kept, size
        by_name = _read_headers(kept)
        for header, text in by_name.items():
            if len(text) > longest and header not in self._secrets:
                by_name[header] = _truncated_text(text, longest)
        return by_name, len("".join(by_name)) + len("".join(by_name.values()))

    def _evict_locked(self) -> None:
        """Drop the oldest entries until both caps hold (the newest entry is always kept)."""
        budget = self._byte_budget
        while len(self._records) > 1 and (
            len(self._records) > self._size or (budget is not None and self._bytes > budget)
        ):
            dropped = self._records.popleft()
            dropped.held = False
            self._bytes -= dropped.cost

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
            if record.outcome is not Outcome.IN_PROGRESS:
                return
            record.outcome = record.decided or Outcome.COMPLETED
            record.ended_at = self._clock()
            if self.shared is None:
                return
            entry = record.snapshot()
        self.shared.submit(record, entry)

    def entries(self) -> list[JournalEntry]:
        """The entries held, oldest first (with a shared journal: every worker's finished requests)."""
        if self.shared is not None:
            return self.shared.entries()
        with self._lock:
            return [record.snapshot() for record in self._records]

    def clear(self) -> None:
        """Forget every request and start numbering from 1 again."""
        with self._lock:
            for record in self._records:
                record.held = False
            self._records.clear()
            self._bytes = 0
            self._seq = 0
