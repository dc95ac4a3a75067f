"""``scale``: throughput and memory as the journal fills up to its cap and past it, and with several workers.

*Journal*: one ``mockserver serve --journal-size CAP`` takes non-stream chat load in phases until it has seen
``--fill`` times CAP requests (or ``--budget`` seconds pass). After each phase: requests so far, journal entries
(``min(requests, CAP)``), that phase's requests/s and the server's resident memory. Below the cap memory grows with
the journal; past it, it must stay flat (the journal is a ring buffer) and requests/s must not fall.

*Workers*: for each state backend (``memory``, each worker on its own; ``redis``, all workers sharing a fresh
``redis-server`` on loopback) and each N of ``--workers``: non-stream chat req/s against ``mockserver serve
--workers N`` (every body distinct, unpinned: the workers need the cores), then the *RPM error*: a fresh server of
the same shape with ``--rpm R`` takes a burst of ``3 R`` requests, and the row gives how many were admitted beside
what one fake allows over the burst (``R * (1 + seconds / 60)``: a full bucket plus its refill). In memory each
worker has a bucket of its own, so N workers admit about N times too many; on Redis they share one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx

from ._loadgen import LoadJob, build_request, measure
from ._redis import running_redis
from ._result import BenchResult, Column
from ._rounds import load_average, measure_rounds, uvicorn_stack
from ._spawn import RunningServer, free_port, pin_cores, resident_kib, spawn_server
from ._table import render
from .server import CHAT_BODY

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = (
    "requests/s and memory as the journal fills to its cap (100k) and past it; --workers N throughput and RPM error, "
    "state in memory and on Redis"
)
#: where the workers keep their state
BACKENDS = ("memory", "redis")

COLUMNS = (
    Column("what", "run"),
    Column("requests", "requests so far"),
    Column("journal", "journal entries"),
    Column("requests_per_s", "req/s", ".0f"),
    Column("p99_ms", "p99 ms", ".1f"),
    Column("rss_mib", "RSS MiB", ".1f"),
    Column("errors", "errors"),
    Column("rpm_admitted", "RPM: admitted"),
    Column("rpm_allowed", "allowed", ".1f"),
    Column("rpm_error", "error"),
)


def _workers(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of worker counts: {text!r}") from None
    if counts and min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts must be 1 or more")
    return counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cap", type=int, default=100_000, help="the journal's size (--journal-size)")
    parser.add_argument("--fill", type=float, default=1.3, help="requests to send, as a multiple of the cap")
    parser.add_argument("--budget", type=float, default=40.0, help="most seconds of load for the journal part")
    parser.add_argument("--phase", type=float, default=4.0, help="seconds per journal phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=_workers, default=[1, 2], help="worker counts, e.g. 1,2 (empty: skip)")
    parser.add_argument("--worker-duration", type=float, default=3.0, help="seconds measured per worker count")
    parser.add_argument(
        "--state", choices=BACKENDS, action="append", help="state backends of the worker rows (default: both)"
    )
    parser.add_argument("--rpm", type=int, default=300, help="the limit of the RPM-error burst")
    parser.add_argument("--skip-journal", action="store_true", help="only the worker rows")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin the journal run")


def _journal_rows(args: argparse.Namespace, job: LoadJob) -> list[dict[str, Any]]:
    server_cpu, load_cpu = pin_cores(args.pin)
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--journal-size", str(args.cap)]
    rows: list[dict[str, Any]] = []
    with spawn_server("mockserver", command, port=port, cpu=server_cpu) as server:
        rows.append({"what": "journal: idle", "requests": 0, "journal": 0, "rss_mib": resident_kib(server.pid) / 1024})
        sent = 0
        deadline = time.monotonic() + args.budget
        phase = replace(job, port=server.port, duration=args.phase, cpu=load_cpu)
        while sent < args.fill * args.cap and time.monotonic() < deadline:
            result = measure(phase)
            sent = _requests_seen(server.url)
            rows.append(
                {
                    "what": "journal: phase",
                    "requests": sent,
                    "journal": min(sent, args.cap),
                    "requests_per_s": result.requests_per_s,
                    "p99_ms": result.p99_ms,
                    "rss_mib": resident_kib(server.pid) / 1024,
                    "errors": result.errors,
                }
            )
    return rows


def _requests_seen(root: str) -> int:
    """Requests the server has seen since its start (its own counter)."""
    count: int = httpx.get(f"{root}/_mock/stats", timeout=30).json()["requests"]
    return count


def _wait_until_serving(root: str, timeout: float = 60.0) -> None:
    """The parent holds the socket, so the port accepts before any worker serves: wait for an answer, then a
    moment for the other workers (they start together)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{root}/health", timeout=5).status_code == 200:
                time.sleep(1.0)
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"no worker answered within {timeout:g} s")


@contextlib.contextmanager
def _workers_serving(count: int, backend: str, *extra: str) -> Iterator[RunningServer]:
    """``mockserver serve --workers count`` with its state in memory or on a fresh redis-server, until the block
    ends."""
    with contextlib.ExitStack() as stack:
        state = ["--state", stack.enter_context(running_redis())] if backend == "redis" else []
        port = free_port()
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", str(count)]
        server = stack.enter_context(spawn_server(f"{count} workers", [*command, *state, *extra], port=port))
        _wait_until_serving(server.url)
        yield server


def _burst(root: str, count: int, concurrency: int) -> tuple[list[int], float]:
    """The statuses of ``count`` distinct chat requests sent ``concurrency`` at a time, and the seconds taken."""

    async def send_all() -> list[int]:
        numbers = iter(range(count))
        statuses: list[int] = []
        # a connection per request: each is accepted by whichever worker is free, as a load balancer spreads them
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
        headers = {"Authorization": "Bearer sk-bench"}
        async with httpx.AsyncClient(base_url=root, timeout=30, limits=limits, headers=headers) as client:

            async def sender() -> None:
                for number in numbers:
                    body = {**CHAT_BODY, "messages": [{"role": "user", "content": f"Hello, number {number}"}]}
                    statuses.append((await client.post("/v1/chat/completions", json=body)).status_code)

            await asyncio.gather(*(sender() for _ in range(concurrency)))
        return statuses

    started = time.perf_counter()
    statuses = asyncio.run(send_all())
    return statuses, time.perf_counter() - started


def _rpm_error(args: argparse.Namespace, count: int, backend: str) -> dict[str, Any]:
    with _workers_serving(count, backend, "--rpm", str(args.rpm)) as server:
        statuses, seconds = _burst(server.url, 3 * args.rpm, args.concurrency)
    allowed = args.rpm * (1 + seconds / 60)
    admitted = statuses.count(200)
    unexpected = len(statuses) - admitted - statuses.count(429)
    return {
        "rpm_admitted": admitted,
        "rpm_allowed": allowed,
        "rpm_error": admitted - math.floor(allowed),
        "errors": unexpected,
    }


def _worker_rows(args: argparse.Namespace, job: LoadJob) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for backend in args.state or BACKENDS:
        for count in args.workers:
            what = f"--workers {count}, {backend}"
            try:
                with _workers_serving(count, backend) as server:
                    (measured,) = measure_rounds([server], replace(job, duration=args.worker_duration), 1)
                    row = {
                        "what": what,
                        "requests_per_s": measured.requests_per_s,
                        "p99_ms": measured.p99_ms,
                        "rss_mib": resident_kib(server.pid) / 1024,
                        "errors": measured.errors,
                    }
                rpm = _rpm_error(args, count, backend)
                rows.append({**row, **rpm, "errors": row["errors"] + rpm["errors"]})
            except RuntimeError as exc:
                rows.append({"what": f"{what}: {str(exc).splitlines()[0]}"})
    return rows


def run(args: argparse.Namespace) -> BenchResult:
    before = load_average()
    request = build_request("/v1/chat/completions", CHAT_BODY, distinct=True)
    job = LoadJob("127.0.0.1", 0, request, args.concurrency, 1.0)
    rows = ([] if args.skip_journal else _journal_rows(args, job)) + _worker_rows(args, job)
    past_cap = [row["rss_mib"] for row in rows if row.get("requests", 0) > args.cap]
    at_cap = [row["rss_mib"] for row in rows if 0 < row.get("requests", 0) <= args.cap]
    details = {
        "cap": args.cap,
        "stack": uvicorn_stack(),
        "rss_growth_past_cap_mib": (max(past_cap) - min(past_cap)) if len(past_cap) > 1 else None,
        "rss_at_last_phase_below_cap_mib": at_cap[-1] if at_cap else None,
    }
    return BenchResult(
        benchmark="scale",
        columns=COLUMNS,
        rows=tuple(rows),
        details=details,
        notes=(
            f"non-stream chat at concurrency {args.concurrency}, every body distinct; journal cap {args.cap}; load "
            f"average {before:.1f} -> {load_average():.1f}",
            f"RPM error: a burst of {3 * args.rpm} requests against --rpm {args.rpm}; 'allowed' is what one fake "
            "admits over the burst (a full bucket and its refill), error = admitted - allowed (rounded down)",
            "RSS includes every worker process; worker runs are unpinned, the journal run is pinned like `server`",
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=DESCRIPTION)
    add_arguments(parser)
    print(render(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
