"""Counts that must hold across workers under concurrent load, on three ``mockserver serve`` workers sharing one
Redis: a rule with ``times: 2`` fires exactly twice, and ``--rpm 50`` admits 50 requests (plus what the bucket
refills while the burst runs, within one request)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from _redis_servers import AUTH, RedisServer, Serving, serving

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
REQUESTS = 200


async def _burst(base_url: str, count: int) -> tuple[Counter[int], float]:
    """``count`` chat requests at once over up to 60 connections (spread over the workers), every other one for
    gpt-4o-mini; their statuses and the seconds from the first sent to the last answered."""
    limits = httpx.Limits(max_connections=60, max_keepalive_connections=0)
    bodies = [{**CHAT, "model": "gpt-4o-mini"} if index % 2 else CHAT for index in range(count)]
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH, limits=limits, timeout=60) as http:
        started = time.monotonic()
        replies = await asyncio.gather(*(http.post("/chat/completions", json=body) for body in bodies))
        elapsed = time.monotonic() - started
    return Counter(reply.status_code for reply in replies), elapsed


@pytest.fixture
def three_workers(redis_instance: RedisServer, prefix: str) -> Iterator[Serving]:
    with serving("--rpm", "50", workers=3, redis_url=redis_instance.url(prefix)) as running:
        yield running


async def test_times_two_fires_exactly_twice_and_rpm_holds_across_three_workers(three_workers: Serving) -> None:
    async with httpx.AsyncClient(base_url=three_workers.root, timeout=30) as control:
        added = await control.post(
            "/_mock/rules",
            json=[
                {"match": {"model": "gpt-4o"}, "action": {"type": "status", "status": 503}, "times": 2},
                # many uses at once: where a count read and then written by two workers would lose uses
                {"match": {"model": "gpt-4o-mini"}, "action": {"type": "status", "status": 502}, "times": 40},
            ],
        )
        assert added.status_code == 200
        statuses, elapsed = await _burst(three_workers.base_url, REQUESTS)
        rules = (await control.get("/_mock/rules")).json()["rules"]
        journal = (await control.get("/_mock/journal")).json()["data"]
    # rules are chosen before the rate limits: their answers use no RPM
    assert (statuses[503], statuses[502]) == (2, 40), statuses
    assert [(rule["remaining"], rule["hits"]) for rule in rules] == [(0, 2), (0, 40)]
    refill = elapsed * 50 / 60  # the bucket refills 50 a minute while the burst runs
    assert 50 <= statuses[200] <= 50 + refill + 1, (statuses, elapsed)
    assert statuses[429] == REQUESTS - 42 - statuses[200]
    assert len(journal) == REQUESTS
    assert sorted(entry["seq"] for entry in journal) == list(range(1, REQUESTS + 1))
    assert Counter(entry["status"] for entry in journal) == statuses
