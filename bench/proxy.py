"""``proxy``: what ``mockserver proxy`` adds to a request, against calling the upstream directly.

Two servers in their own processes: an upstream (``mockserver serve``, no delays) and ``mockserver proxy`` in
front of it (``--record DIR`` too with ``--record``). One client (raw aiohttp, the leanest) sends the same
requests, one at a time, straight to the upstream and through the proxy, alternating, so both see the same
machine. Non-stream: the median latency of a chat completion each way, the difference, and the proxy's CPU time
per request (user + system, from /proc). Streams: the median time of a whole streamed chat completion each way,
the difference divided by its events, and the proxy's CPU time per event.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from ._arguments import positive_int
from ._result import BenchResult, Column
from ._spawn import cpu_seconds
from ._target import spawned_mockserver

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "record/replay proxy overhead: added latency and proxy CPU per request and per streamed event"

_BODY: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 32}

COLUMNS = (
    Column("kind", "request"),
    Column("requests", "requests"),
    Column("events", "events each"),
    Column("direct_ms", "direct median ms", ".2f"),
    Column("proxied_ms", "proxied median ms", ".2f"),
    Column("added_ms", "added ms", "+.2f"),
    Column("added_per_event_us", "added us/event", "+.1f"),
    Column("proxy_cpu_ms", "proxy CPU ms/request", ".2f"),
    Column("proxy_cpu_per_event_us", "proxy CPU us/event", ".1f"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=positive_int, default=200, help="non-stream requests each way (default 200)")
    parser.add_argument("--streams", type=positive_int, default=50, help="streams each way (default 50)")
    parser.add_argument("--record", action="store_true", help="the proxy also records every exchange")


async def _ready(session: aiohttp.ClientSession, root: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(f"{root}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{root}/health did not answer within 30 s")
        await asyncio.sleep(0.02)


def _body(number: int, stream: bool) -> dict[str, Any]:
    """Request ``number``'s body: each one different, as users' traffic is (the direct and the proxied call of one
    pair get the same body, so both sides do the same work)."""
    message = {"role": "user", "content": f"Hello! number {number}"}
    return {**_BODY, "messages": [message], "stream": stream}


async def _one(session: aiohttp.ClientSession, root: str, stream: bool, number: int) -> tuple[float, int]:
    """Seconds for one whole chat completion, and its events (0 for a JSON reply)."""
    started = time.perf_counter()
    events = 0
    async with session.post(f"{root}/v1/chat/completions", json=_body(number, stream)) as response:
        if response.status != 200:
            raise RuntimeError(f"status {response.status}: {await response.text()}")
        if stream:
            async for line in response.content:
                if line.startswith(b"data:") and line.strip() != b"data: [DONE]":
                    events += 1
        else:
            await response.read()
    return time.perf_counter() - started, events


async def _measure(direct: str, proxied: str, proxy_pid: int, count: int, stream: bool) -> dict[str, Any]:
    headers = {"Authorization": "Bearer sk-bench"}
    async with aiohttp.ClientSession(headers=headers) as session:
        await _ready(session, direct)
        await _ready(session, proxied)
        numbers = itertools.count()
        for _ in range(5):  # warm-up: connections, first-use costs
            await _one(session, direct, stream, next(numbers))
            await _one(session, proxied, stream, next(numbers))
        direct_times: list[float] = []
        proxied_times: list[float] = []
        proxied_cpu = 0.0
        events = 0
        for _ in range(count):
            number = next(numbers)
            seconds, _ = await _one(session, direct, stream, number)
            direct_times.append(seconds)
            cpu_before = cpu_seconds(proxy_pid)
            seconds, got = await _one(session, proxied, stream, number)
            proxied_cpu += cpu_seconds(proxy_pid) - cpu_before
            proxied_times.append(seconds)
            events += got
    direct_ms = statistics.median(direct_times) * 1000
    proxied_ms = statistics.median(proxied_times) * 1000
    row: dict[str, Any] = {
        "kind": "stream" if stream else "json",
        "requests": count,
        "direct_ms": direct_ms,
        "proxied_ms": proxied_ms,
        "added_ms": proxied_ms - direct_ms,
        "proxy_cpu_ms": proxied_cpu / count * 1000,
    }
    if stream:
        per_stream = events / count
        row["events"] = round(per_stream)
        row["added_per_event_us"] = (proxied_ms - direct_ms) / per_stream * 1000 if per_stream else None
        row["proxy_cpu_per_event_us"] = proxied_cpu / events * 1e6 if events else None
    return row


def run(args: argparse.Namespace) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as directory:
        record = ["--record", str(Path(directory))] if args.record else []
        with (
            spawned_mockserver("serve") as (upstream, _),
            spawned_mockserver("proxy", "--upstream", f"{upstream}/v1", *record) as (
                proxied,
                proxy_pid,
            ),
        ):
            rows = (
                asyncio.run(_measure(upstream, proxied, proxy_pid, args.requests, stream=False)),
                asyncio.run(_measure(upstream, proxied, proxy_pid, args.streams, stream=True)),
            )
    return BenchResult(
        "proxy",
        COLUMNS,
        rows,
        {
            "requests": args.requests,
            "streams": args.streams,
            "record": args.record,
            "body": {**_BODY, "messages": "distinct: 'Hello! number N'"},
        },
        (
            "added = proxied - direct (medians, one request at a time, alternating); CPU is the proxy process's "
            "user + system time. The proxy opens a new upstream connection per request.",
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - python -m bench proxy is the way in
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    print(run(parser.parse_args(argv)))
    return 0
