"""``latency``: does the fake keep the time-to-first-token and inter-token latency it is asked for?

For each concurrency level, a fresh client opens its connections with a warm-up wave of streams, then runs a
wave without any rule (the *baseline*: what a stream costs with no latency rule); then a latency rule goes on
through the control API and ``streams`` chat completion streams run, ``concurrency`` at a time. At the
client, TTFT is the time from sending the request to the first ``data:`` event; ITL is each gap between
consecutive events. The error is measured minus requested: it includes the server's own work, the sleep
overshoot of the event loop and the client's parsing, which is what a test relying on the fake's timing sees.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._arguments import positive_int
from ._result import BenchResult, Column
from ._stats import summarize
from ._stream_clients import CLIENTS, StreamFailed, StreamOnce, StreamTiming, open_stream_client
from ._target import add_rule, remove_rule, server_url

__all__ = ["DESCRIPTION", "add_arguments", "parse_levels", "run"]

DESCRIPTION = "latency fidelity: requested TTFT/ITL vs measured at the client, at 1 and 100 concurrent streams"

#: at least this many streams without a rule give the baseline
_BASELINE_STREAMS = 10

COLUMNS = (
    Column("concurrency", "streams at once"),
    Column("metric", "metric"),
    Column("requested_ms", "requested ms", ".1f"),
    Column("samples", "samples"),
    Column("failed", "failed streams"),
    Column("baseline_ms", "no-rule median ms", ".2f"),
    Column("median_ms", "median ms", ".2f"),
    Column("median_error_ms", "median err ms", "+.2f"),
    Column("p99_error_ms", "p99 err ms", "+.2f"),
    Column("max_error_ms", "max err ms", "+.2f"),
)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"seconds must be within 0..10, got {text}")
    return value


def parse_levels(text: str) -> tuple[int, ...]:
    """Concurrency levels from ``"1,100"``."""
    return tuple(positive_int(piece.strip()) for piece in text.split(","))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ttft", type=_seconds, default=0.1, help="requested TTFT in seconds (default: 0.1)")
    parser.add_argument("--itl", type=_seconds, default=0.02, help="requested ITL in seconds (default: 0.02)")
    parser.add_argument(
        "--concurrency", type=parse_levels, default=(1, 100), help="comma-separated levels (default: 1,100)"
    )
    parser.add_argument(
        "--streams", type=positive_int, default=20, help="streams measured per level, at least 2x its concurrency"
    )
    parser.add_argument("--max-tokens", type=positive_int, default=20, help="tokens per stream (default: 20)")
    parser.add_argument("--model", default="gpt-4o")
    parser.add_argument(
        "--client", choices=CLIENTS, default="aiohttp", help="the streaming client that measures (default: aiohttp)"
    )
    parser.add_argument("--url", help="bench a running mock server at this URL instead of spawning one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the spawned server")


@dataclass(frozen=True, slots=True)
class _Wave:
    timings: list[StreamTiming]
    #: why the streams that did not complete failed
    failures: list[str]


async def _run_streams(stream_once: StreamOnce, body: dict[str, Any], count: int, concurrency: int) -> _Wave:
    """``count`` streams, ``concurrency`` at a time; a failed stream is counted, not fatal (unless all fail)."""
    wave = _Wave([], [])
    tickets = iter(range(count))

    async def worker() -> None:
        for _ in tickets:
            try:
                wave.timings.append(await stream_once(body))
            except StreamFailed as exc:
                wave.failures.append(str(exc))

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, count)):
            group.create_task(worker())
    if not wave.timings:
        raise StreamFailed(f"every stream failed, e.g. {wave.failures[0]}")
    return wave


@dataclass(frozen=True, slots=True)
class _Level:
    concurrency: int
    baseline: _Wave
    measured: _Wave
    seconds: float


async def _measure_level(root: str, args: argparse.Namespace, concurrency: int) -> _Level:
    body = {
        "model": args.model,
        "messages": [{"role": "user", "content": "Tell me a story."}],
        "stream": True,
        "max_tokens": args.max_tokens,
    }
    began = time.perf_counter()
    async with open_stream_client(args.client, root, concurrency) as stream_once:
        await _run_streams(stream_once, body, concurrency, concurrency)  # warm-up: opens the connections
        baseline = await _run_streams(stream_once, body, max(concurrency, _BASELINE_STREAMS), concurrency)
        rule = {
            "match": {"path": "/v1/chat/completions"},
            "action": {"type": "latency", "ttft": args.ttft, "itl": args.itl},
        }
        rule_id = await add_rule(root, rule)
        try:
            count = max(args.streams, 2 * concurrency)
            measured = await _run_streams(stream_once, body, count, concurrency)
        finally:
            await remove_rule(root, rule_id)
    return _Level(concurrency, baseline, measured, time.perf_counter() - began)


def _samples(timings: list[StreamTiming], metric: str) -> list[float]:
    if metric == "ttft":
        return [timing.ttft for timing in timings]
    return [gap for timing in timings for gap in timing.gaps]


def _rows(level: _Level, ttft: float, itl: float) -> list[dict[str, Any]]:
    rows = []
    for metric, requested in (("ttft", ttft), ("itl", itl)):
        measured = _samples(level.measured.timings, metric)
        baseline = _samples(level.baseline.timings, metric)
        errors = summarize([value - requested for value in measured])
        rows.append(
            {
                "concurrency": level.concurrency,
                "metric": metric,
                "requested_ms": requested * 1000,
                "samples": errors.count,
                "failed": len(level.measured.failures),
                "baseline_ms": summarize(baseline).median * 1000 if baseline else None,
                "median_ms": summarize(measured).median * 1000,
                "median_error_ms": errors.median * 1000,
                "p99_error_ms": errors.p99 * 1000,
                "max_error_ms": errors.max * 1000,
            }
        )
    return rows


def run(args: argparse.Namespace) -> BenchResult:
    levels: Sequence[int] = args.concurrency
    results: list[_Level] = []
    began = time.perf_counter()
    with server_url(args.url, seed=args.seed) as root:
        for concurrency in levels:
            results.append(asyncio.run(_measure_level(root, args, concurrency)))
    rows = [row for level in results for row in _rows(level, args.ttft, args.itl)]
    details = {
        "ttft_s": args.ttft,
        "itl_s": args.itl,
        "max_tokens": args.max_tokens,
        "server": args.url or "spawned",
        "client": args.client,
        "level_seconds": {str(level.concurrency): round(level.seconds, 3) for level in results},
        "failures": {str(level.concurrency): level.measured.failures + level.baseline.failures for level in results},
        "total_seconds": round(time.perf_counter() - began, 3),
    }
    notes = (
        "err = measured - requested at the client (server work + sleep overshoot + client parsing);",
        "no-rule median: the same streams without a latency rule (TTFT) / their natural gaps (ITL).",
    )
    return BenchResult("latency", COLUMNS, tuple(rows), details, notes)
