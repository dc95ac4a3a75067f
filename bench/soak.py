"""The full soak: 20,000 requests of a seeded mix of plain replies, streams, faults and cancellations against one
``mockserver serve`` process, in two halves. The first half warms up (it fills the journal to its cap); the
second is measured: the server's RSS may not grow by 10% or more over it.

Checks: every request of the second half is in the journal as it happened (within the cap), nothing in flight or
open at the end, no TCP connection left open, every health check answered, RSS growth under 10%, and a clean exit
on SIGTERM. Prints the figures; exits 1 when a check fails. Run it as ``python -m bench soak``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ._result import BenchResult, Column
from ._soak_mix import category, plan
from ._soak_run import PhaseResult, Verdict, run_phase, settle, verify
from ._sockets import rss_bytes
from ._table import render

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "20,000 mixed requests, faults and cancellations against one server: journal, leaks, RSS, health"
MAX_RSS_GROWTH = 0.10
_SERVING = re.compile(r"serving the fake OpenAI API at (http://\S+)/v1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=20_000, help="requests in all (two halves)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at once")
    parser.add_argument("--seed", type=int, default=8, help="seed of the mix and of the server")
    parser.add_argument("--journal-size", type=int, default=10_000, help="the server's journal cap")


@dataclass(frozen=True, slots=True)
class _Server:
    root: str
    port: int
    process: subprocess.Popen[str]


@contextmanager
def _spawned(seed: int, journal_size: int) -> Iterator[_Server]:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--seed", str(seed)]
    command += ["--journal-size", str(journal_size)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        found = _SERVING.search(process.stdout.readline())
        if found is None:
            raise RuntimeError("the mock server did not start")
        root = found.group(1)
        yield _Server(root, int(root.rsplit(":", 1)[1]), process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _stop(process: subprocess.Popen[str]) -> int | None:
    """SIGTERM, then the exit code (``None`` if it did not exit within 10 s)."""
    process.terminate()
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None


def _row(name: str, phase: PhaseResult, rss: int) -> dict[str, object]:
    categories = Counter(category(item.kind) for item in phase.seen)
    return {
        "phase": name,
        "requests": len(phase.seen),
        "faults": categories["fault"],
        "cancellations": categories["cancellation"],
        "seconds": phase.seconds,
        "per_second": len(phase.seen) / phase.seconds,
        "health_ok": phase.health.answered,
        "health_failed": phase.health.failed,
        "health_slowest_ms": phase.health.slowest * 1000,
        "rss_mb": rss / 2**20,
    }


async def _soak(args: argparse.Namespace, server: _Server) -> tuple[list[dict[str, object]], Verdict, float]:
    half = args.requests // 2
    warm_up = await run_phase(server.root, plan(half, args.seed), concurrency=args.concurrency, seed=args.seed)
    await settle(server.root)
    rss_before = rss_bytes(server.process.pid)
    measured_plan = plan(args.requests - half, args.seed + 1, first=half)
    measured = await run_phase(server.root, measured_plan, concurrency=args.concurrency, seed=args.seed + 1)
    await settle(server.root)
    rss_after = rss_bytes(server.process.pid)  # before the journal is read (a big reply's memory is kept)
    verdict = await verify(server.root, server.port, measured.seen, journal_cap=args.journal_size)
    growth = (rss_after - rss_before) / rss_before
    rows = [_row("warm-up", warm_up, rss_before), _row("measured", measured, rss_after)]
    for phase in (warm_up, measured):
        if phase.health.failed:
            verdict.problems.append(f"{phase.health.failed} health checks unanswered")
    if growth >= MAX_RSS_GROWTH:
        verdict.problems.append(f"RSS grew by {growth:.1%} after warm-up")
    return rows, verdict, growth


def run(args: argparse.Namespace) -> BenchResult:
    if args.journal_size < args.requests - args.requests // 2:
        raise SystemExit("soak: --journal-size must hold the measured half (every one of its requests is checked)")
    with _spawned(args.seed, args.journal_size) as server:
        rows, verdict, growth = asyncio.run(_soak(args, server))
        exit_code = _stop(server.process)
    if exit_code != 0:
        verdict.problems.append(f"on SIGTERM the server exited with {exit_code}")
    columns = (
        Column("phase", "phase"),
        Column("requests", "requests"),
        Column("faults", "faults"),
        Column("cancellations", "cancelled"),
        Column("seconds", "s", ".1f"),
        Column("per_second", "req/s", ".0f"),
        Column("health_ok", "health ok"),
        Column("health_failed", "health failed"),
        Column("health_slowest_ms", "slowest health ms", ".1f"),
        Column("rss_mb", "RSS MB after", ".1f"),
    )
    result = BenchResult(
        "soak",
        columns,
        tuple(rows),
        details={
            "rss_growth": growth,
            "journal_entries": verdict.journal_entries,
            "journal_checked": verdict.journal_checked,
            "final_stats": verdict.stats,
            "open_connections": verdict.open_connections,
            "sigterm_exit_code": exit_code,
            "problems": verdict.problems,
        },
        notes=(
            f"RSS growth over the measured half: {growth:+.1%} (limit {MAX_RSS_GROWTH:.0%}); journal: "
            f"{verdict.journal_entries} entries, {verdict.journal_checked} checked against the client's view; "
            f"open connections at the end: {verdict.open_connections}; exit on SIGTERM: {exit_code}",
        ),
    )
    if verdict.problems:
        print(render(result))
        print("soak FAILED:\n  " + "\n  ".join(verdict.problems), file=sys.stderr)
        raise SystemExit(1)
    return result
