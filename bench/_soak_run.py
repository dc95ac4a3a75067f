"""Running a soak phase against a live server and checking what it left behind.

A phase sends a planned mix (:mod:`bench._soak_mix`) while a monitor asks ``/health`` every few milliseconds on
a connection of its own. Afterwards :func:`verify` waits for the server to settle and checks its counters (nothing
in flight, no stream open), its journal (every request, within the cap, as it happened) and the kernel's socket
table (no connection left open).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ._soak_mix import Planned, Seen, check_journal, send_all
from ._sockets import established_connections

__all__ = ["HealthLog", "PhaseResult", "Verdict", "run_phase", "settle", "verify"]

#: a health check slower than this counts as unanswered
HEALTH_PATIENCE = 5.0


@dataclass(slots=True)
class HealthLog:
    answered: int = 0
    failed: int = 0
    slowest: float = 0.0


@dataclass(frozen=True, slots=True)
class PhaseResult:
    seen: list[Seen]
    health: HealthLog
    seconds: float

    def counts(self) -> Counter[str]:
        return Counter(item.kind for item in self.seen)


@dataclass(slots=True)
class Verdict:
    """The figures a soak is judged by, and every failed check."""

    stats: dict[str, int] = field(default_factory=dict)
    journal_entries: int = 0
    journal_checked: int = 0
    open_connections: int = 0
    problems: list[str] = field(default_factory=list)


async def _monitor_health(root: str, log: HealthLog, stop: asyncio.Event, interval: float) -> None:
    timeout = aiohttp.ClientTimeout(total=HEALTH_PATIENCE)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                async with session.get(f"{root}/health") as response:
                    ok = response.status == 200 and (await response.json()) == {"status": "ok"}
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            log.slowest = max(log.slowest, time.perf_counter() - started)
            if ok:
                log.answered += 1
            else:
                log.failed += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


async def run_phase(
    root: str, planned: Sequence[Planned], *, concurrency: int, seed: int, health_interval: float = 0.05
) -> PhaseResult:
    """Send ``planned`` to the server at ``root`` (no ``/v1``) with health checks running alongside."""
    log, stop = HealthLog(), asyncio.Event()
    monitor = asyncio.create_task(_monitor_health(root, log, stop, health_interval))
    started = time.perf_counter()
    try:
        seen = await send_all(root, planned, concurrency=concurrency, seed=seed)
    finally:
        stop.set()
        await monitor
    return PhaseResult(seen, log, time.perf_counter() - started)


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def _until(predicate: Any, patience: float) -> None:
    """Poll ``predicate`` (an async callable) until it is true or ``patience`` seconds have gone."""
    deadline = time.monotonic() + patience
    while not await predicate() and time.monotonic() < deadline:  # noqa: ASYNC110 - polling another process
        await asyncio.sleep(0.02)


async def settle(root: str, *, patience: float = 10.0) -> dict[str, int]:
    """The server's counters once nothing is in flight and no stream is open (or once ``patience`` is over)."""
    stats: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:

        async def settled() -> bool:
            stats.update(await _get_json(session, f"{root}/_mock/stats"))
            return stats["in_flight"] == 0 and stats["open_streams"] == 0

        await _until(settled, patience)
    return stats


async def verify(root: str, port: int, seen: Sequence[Seen], *, journal_cap: int, patience: float = 10.0) -> Verdict:
    """Check the server at ``root`` after a soak whose requests were ``seen`` (the last ones sent)."""
    verdict = Verdict()
    verdict.stats = await settle(root, patience=patience)
    async with aiohttp.ClientSession() as session:
        entries = (await _get_json(session, f"{root}/_mock/journal"))["data"]

    async def closed() -> bool:
        verdict.open_connections = established_connections(port)
        return verdict.open_connections == 0

    await _until(closed, patience)
    verdict.journal_entries = len(entries)
    if verdict.stats["in_flight"] or verdict.stats["open_streams"]:
        verdict.problems.append(f"the server did not settle: {verdict.stats}")
    if verdict.open_connections:
        verdict.problems.append(f"{verdict.open_connections} connections still open on port {port}")
    sequence = [entry["seq"] for entry in entries]
    if sequence and sequence != list(range(sequence[0], sequence[0] + len(sequence))):
        verdict.problems.append("the journal's sequence numbers have gaps")
    if sequence and len(entries) != min(journal_cap, sequence[-1]):
        verdict.problems.append(f"the journal holds {len(entries)} entries of {sequence[-1]} (cap {journal_cap})")
    if any(entry["outcome"] == "in_progress" for entry in entries):
        verdict.problems.append("requests still in progress in the journal")
    check = check_journal(entries, seen)
    verdict.journal_checked = check.checked
    verdict.problems.extend(check.problems[:20])
    return verdict
