"""A seeded random mix of requests for soaking a server: plain replies, streams read to the end, streams abandoned
mid-way, calls cancelled before their headers, hangs given up on, and faults asked for with ``X-Mock-Fault``
(error statuses, resets, cut streams, malformed events, stream errors).

Every request carries ``x-soak-id``; :func:`check_journal` then holds the server's journal against what each
request asked for and what the client saw. Used by ``bench/soak.py`` (20,000 requests) and by the short soak test.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

__all__ = [
    "KINDS",
    "SOAK_HEADER",
    "Expectation",
    "JournalCheck",
    "Planned",
    "Seen",
    "category",
    "check_journal",
    "plan",
    "send_all",
]

SOAK_HEADER = "x-soak-id"
_AUTH = {"Authorization": "Bearer sk-soak"}
_CHAT = "/v1/chat/completions"
#: streams abandoned mid-way arrive slowly, so the server is still sending when the client leaves
_SLOW_STREAM = '{"type": "latency", "itl": 0.03}'


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one kind of request does and how the journal must show it."""

    path: str
    stream: bool = False
    fault: str | None = None
    #: the status the client must see (``None``: no status, the call fails or is cancelled first)
    status: int | None = 200
    outcome: str = "completed"
    #: the server may never have seen it (cancelled before or while it was sent)
    maybe_unseen: bool = False
    #: abandoned by the client: close after this many events (streams) or cancel after a few ms (others)
    abandon_after: int | None = None


#: kind -> (weight, expectation)
KINDS: Mapping[str, tuple[int, Expectation]] = {
    "chat": (18, Expectation(_CHAT)),
    "stream": (18, Expectation(_CHAT, stream=True)),
    "embeddings": (5, Expectation("/v1/embeddings")),
    "models": (3, Expectation("/v1/models")),
    "stream_abandoned": (
        12,
        Expectation(_CHAT, stream=True, fault=_SLOW_STREAM, outcome="client_disconnected", abandon_after=2),
    ),
    "cancelled_before_headers": (
        6,
        Expectation(
            _CHAT,
            fault='{"type": "latency", "ttft": 5}',
            status=None,
            outcome="client_disconnected",
            maybe_unseen=True,
            abandon_after=0,
        ),
    ),
    "hang_abandoned": (
        4,
        Expectation(_CHAT, fault="hang", status=None, outcome="hang_abandoned", maybe_unseen=True, abandon_after=0),
    ),
    "status_500": (5, Expectation(_CHAT, fault="500", status=500)),
    "status_503": (3, Expectation(_CHAT, fault="503", status=503)),
    "status_429": (4, Expectation(_CHAT, fault="429 retry_after_ms=5", status=429)),
    "reset": (4, Expectation(_CHAT, fault="reset", status=None, outcome="server_cut")),
    "stream_cut": (6, Expectation(_CHAT, stream=True, fault="disconnect after_events=2", outcome="server_cut")),
    "malformed": (4, Expectation(_CHAT, stream=True, fault="malformed after_events=1")),
    "stream_error": (4, Expectation(_CHAT, stream=True, fault="stream_error after_events=1")),
}


@dataclass(frozen=True, slots=True)
class Planned:
    ident: int
    kind: str


@dataclass(frozen=True, slots=True)
class Seen:
    """What the client saw of one request."""

    ident: int
    kind: str
    status: int | None
    events: int
    #: the client failed (a transport error) or gave up on it
    failed: bool


def plan(total: int, seed: int, *, first: int = 0) -> list[Planned]:
    """``total`` requests numbered from ``first``, kinds drawn by weight with ``seed``."""
    rng = random.Random(seed)
    names = list(KINDS)
    weights = [KINDS[name][0] for name in names]
    return [Planned(ident, kind) for ident, kind in enumerate(rng.choices(names, weights, k=total), start=first)]


def category(kind: str) -> str:
    """``cancellation`` (the client gives up), ``fault`` (asked of the server) or ``plain``."""
    expectation = KINDS[kind][1]
    if expectation.abandon_after is not None:
        return "cancellation"
    return "plain" if expectation.fault is None else "fault"


def _body(planned: Planned, expectation: Expectation) -> dict[str, Any] | None:
    if expectation.path == "/v1/models":
        return None
    if expectation.path == "/v1/embeddings":
        return {"model": "text-embedding-3-small", "input": f"soak {planned.ident}"}
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"soak {planned.ident}"}]}
    if expectation.stream:
        body["stream"] = True
    return body


async def _exchange(session: aiohttp.ClientSession, root: str, planned: Planned, expectation: Expectation) -> Seen:
    headers = {**_AUTH, SOAK_HEADER: str(planned.ident)}
    if expectation.fault is not None:
        headers["X-Mock-Fault"] = expectation.fault
    body = _body(planned, expectation)
    method = "GET" if body is None else "POST"
    events = 0
    async with session.request(method, root + expectation.path, json=body, headers=headers) as response:
        if not expectation.stream or response.status != 200:
            await response.read()
            return Seen(planned.ident, planned.kind, response.status, 0, failed=False)
        try:
            async for line in response.content:
                if line.startswith(b"data:"):
                    events += 1
                    if events == expectation.abandon_after:
                        response.close()
                        return Seen(planned.ident, planned.kind, response.status, events, failed=True)
        except aiohttp.ClientError:  # a stream the server cut
            return Seen(planned.ident, planned.kind, response.status, events, failed=True)
        return Seen(planned.ident, planned.kind, response.status, events, failed=False)


async def _one(session: aiohttp.ClientSession, root: str, planned: Planned, rng: random.Random) -> Seen:
    expectation = KINDS[planned.kind][1]
    exchange = asyncio.ensure_future(_exchange(session, root, planned, expectation))
    if expectation.abandon_after == 0:  # cancel the call itself, a few ms in
        await asyncio.sleep(rng.uniform(0.001, 0.01))
        exchange.cancel()
    try:
        return await exchange
    except asyncio.CancelledError:
        if not exchange.cancelled():
            raise
        return Seen(planned.ident, planned.kind, None, 0, failed=True)
    except (TimeoutError, aiohttp.ClientError):
        return Seen(planned.ident, planned.kind, None, 0, failed=True)


async def send_all(root: str, planned: Sequence[Planned], *, concurrency: int, seed: int) -> list[Seen]:
    """Send ``planned`` to the server at ``root`` (no ``/v1``), ``concurrency`` at a time, on one session that is
    closed before returning."""
    rng = random.Random(seed)
    queue = iter(planned)
    seen: list[Seen] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for item in queue:
                seen.append(await _one(session, root, item, rng))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return seen


@dataclass(slots=True)
class JournalCheck:
    """The journal held against the requests: how many were checked, and every disagreement found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)


def check_journal(entries: Sequence[Mapping[str, Any]], seen: Sequence[Seen]) -> JournalCheck:
    """Every request that surely reached the server appears exactly once, with the outcome its kind leads to and
    the status the client saw; requests the server may not have seen appear at most once."""
    result = JournalCheck()
    by_ident: dict[int, list[Mapping[str, Any]]] = {}
    for entry in entries:
        ident = entry["headers"].get(SOAK_HEADER)
        if ident is not None:
            by_ident.setdefault(int(ident), []).append(entry)
    for item in seen:
        expectation = KINDS[item.kind][1]
        found = by_ident.get(item.ident, [])
        if len(found) > 1 or (not found and not expectation.maybe_unseen):
            result.problems.append(f"request {item.ident} ({item.kind}) is in the journal {len(found)} times")
            continue
        if not found:
            continue
        result.checked += 1
        entry = found[0]
        if entry["outcome"] != expectation.outcome:
            result.problems.append(f"request {item.ident} ({item.kind}): outcome {entry['outcome']}")
        if expectation.status is not None and (entry["status"], item.status) != (expectation.status,) * 2:
            result.problems.append(f"request {item.ident} ({item.kind}): status {entry['status']}/{item.status}")
        if expectation.status is None and item.status is not None:
            result.problems.append(f"request {item.ident} ({item.kind}): the client saw status {item.status}")
    return result
