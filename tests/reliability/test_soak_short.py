"""A short soak: about 1,000 requests of the seeded mix (plain replies, streams, abandoned streams, cancelled
calls, hangs given up on, error statuses, resets, cut, malformed and failing streams) against one real server.

Afterwards nothing is in flight or open, every request is in the journal as it happened, no connection is left
open, and every health check asked during the run was answered. ``bench/soak.py`` is the 20,000-request version.
"""

from __future__ import annotations

from collections import Counter

from bench._soak_mix import KINDS, plan
from bench._soak_run import run_phase, verify
from mockserver import MockServer, ServerConfig

TOTAL = 1_000
SEED = 20


async def test_a_thousand_mixed_requests_leave_nothing_behind() -> None:
    planned = plan(TOTAL, SEED)
    assert set(Counter(item.kind for item in planned)) == set(KINDS)
    async with MockServer(ServerConfig(seed=SEED)) as server:
        phase = await run_phase(server.url, planned, concurrency=24, seed=SEED, health_interval=0.02)
        verdict = await verify(server.url, server.port, phase.seen, journal_cap=server.config.journal_size)
    assert verdict.problems == []
    assert len(phase.seen) == TOTAL
    assert verdict.stats == {"open_streams": 0, "in_flight": 0, "requests": verdict.journal_entries}
    unseen_allowed = sum(1 for item in phase.seen if KINDS[item.kind][1].maybe_unseen)
    assert TOTAL - unseen_allowed <= verdict.journal_checked <= TOTAL
    assert phase.health.failed == 0
    assert phase.health.answered > 0
    abandoned = [item for item in phase.seen if item.kind == "stream_abandoned"]
    assert abandoned
    assert all(item.events == 2 for item in abandoned)
