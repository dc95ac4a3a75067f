"""Cancellation storm: 1,000 chat streams per client, each cancelled at a seeded random point (waiting for its
headers, or after 0-4 chunks), from our client (httpx, aiohttp) and from the official SDK (httpx2, aiohttp),
against one server.

Checks, per client: every response it handed out was closed, no connection is left open once it is closed, and
the server ends with no request in flight, no stream open and no more tasks than before; the journal outcomes of
the storm's requests are reported (all should be client disconnects). Prints the figures; exits 1 when a check
fails. Run it as ``python -m bench storm``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from typing import Any

import httpx

from mockserver import MockServer, ServerConfig

from ._result import BenchResult, Column
from ._sockets import established_connections
from ._storm import CLIENTS, STORM_HEADER, add_task_probe, run_storm
from ._table import render

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "1,000 streams cancelled at random points per client (ours and the SDK, both transports)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--streams", type=int, default=1_000, help="streams per client")
    parser.add_argument("--concurrency", type=int, default=50, help="streams open at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated, of: {', '.join(CLIENTS)}")


async def _until_quiet(server: MockServer, probe: str, patience: float = 15.0) -> tuple[dict[str, int], int, int]:
    """The server's counters, its task count and the open connections, once settled (or ``patience`` is over)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    async with httpx.AsyncClient() as http:
        while True:
            stats = server.stats()
            connections = established_connections(server.port)
            quiet = stats["in_flight"] == 0 and stats["open_streams"] == 0 and connections == 0
            if quiet or loop.time() > deadline:
                tasks: int = (await http.get(probe)).json()["tasks"]
                return stats, tasks, established_connections(server.port) - 1  # minus the probe's own


async def _storm_all(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    async with MockServer(ServerConfig(seed=args.seed)) as server:
        probe = add_task_probe(server)
        _, tasks_before, _ = await _until_quiet(server, probe)
        for kind in args.clients.split(","):
            tally = await run_storm(
                kind, server.base_url, streams=args.streams, seed=args.seed, concurrency=args.concurrency
            )
            stats, tasks_after, connections = await _until_quiet(server, probe)
            outcomes = Counter(
                entry.outcome for entry in server.journal if entry.headers.get(STORM_HEADER, "").startswith(f"{kind}-")
            )
            rows.append(
                {
                    "client": kind,
                    "streams": tally.streams,
                    "before_headers": tally.cancelled_waiting_for_headers,
                    "mid_stream": tally.cancelled_mid_stream,
                    "unreleased": tally.unreleased,
                    "disconnected": outcomes["client_disconnected"],
                    "completed": outcomes["completed"],
                    "other": sum(outcomes.values()) - outcomes["client_disconnected"] - outcomes["completed"],
                    "tasks_left": tasks_after - tasks_before,
                    "connections_left": connections,
                    "seconds": tally.seconds,
                }
            )
            checks = {
                "responses never closed": tally.unreleased,
                "streams not cancelled": tally.not_cancelled,
                "errors": len(tally.errors),
                "requests in flight": stats["in_flight"],
                "streams open": stats["open_streams"],
                "server tasks left": max(0, tasks_after - tasks_before),
                "connections left": connections,
                "other journal outcomes": rows[-1]["other"],
            }
            problems += [f"{kind}: {count} {what}" for what, count in checks.items() if count]
            server.state.journal.clear()
    return rows, problems


def run(args: argparse.Namespace) -> BenchResult:
    rows, problems = asyncio.run(_storm_all(args))
    columns = (
        Column("client", "client"),
        Column("streams", "streams"),
        Column("before_headers", "cancelled before headers"),
        Column("mid_stream", "cancelled mid-stream"),
        Column("unreleased", "unreleased"),
        Column("disconnected", "journal: disconnected"),
        Column("completed", "journal: completed"),
        Column("tasks_left", "server tasks left"),
        Column("connections_left", "connections left"),
        Column("seconds", "s", ".1f"),
    )
    result = BenchResult(
        "storm",
        columns,
        tuple(rows),
        details={"problems": problems},
        notes=(
            "journal: completed = a cancelled stream the client kept reading to its end (the server saw no "
            "disconnect); server tasks left counts the server loop's tasks against the count before the storm",
        ),
    )
    if problems:
        print(render(result))
        print("storm FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        raise SystemExit(1)
    return result
