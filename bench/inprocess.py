"""``inprocess``: what one request costs through the in-process modes, against a plain respx route and against
the real loopback server.

Every mode uses the same client (``httpx.AsyncClient``) and sends the same requests one after another, so the
difference is the path a request takes:

- ``respx canned``: a respx route answering with a fixed body (the body the fake gave for the same request) -
  the floor: what mocking costs when nothing is simulated;
- ``asgi transport``: ``httpx.ASGITransport`` into the fake's app (``inprocess_httpx_client``);
- ``respx -> app``: a respx route passing through to the app (``route_to_app``);
- ``loopback``: a real ``mockserver serve`` in another process, over 127.0.0.1 (client CPU only in ``cpu us``).

``wall us`` and ``cpu us`` are per request (medians over ``--rounds`` rounds); the ``x respx`` columns divide them
by the ``respx canned`` figures of the same workload (the target for in-process modes is 2x or less). On a busy
machine wall time includes waiting for a core: read ``cpu x respx`` for the in-process modes, which spend all
their time in this process. For ``loopback`` only wall time compares (its server works in another process).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import respx

from mockserver import ServerConfig, create_app
from mockserver.inprocess import INPROCESS_BASE_URL, inprocess_httpx_client, route_to_app

from ._arguments import positive_int
from ._result import BenchResult, Column
from ._target import server_url

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "in-process request cost (ASGI transport, respx passthrough) vs a canned respx route and loopback"

COLUMNS = (
    Column("workload", "workload"),
    Column("mode", "mode"),
    Column("requests", "requests"),
    Column("wall_us", "wall us", ".0f"),
    Column("cpu_us", "cpu us", ".0f"),
    Column("wall_vs_respx", "wall x respx", ".2f"),
    Column("cpu_vs_respx", "cpu x respx", ".2f"),
)

_AUTH = {"Authorization": "Bearer sk-bench"}
_RESPX_HOST = "bench.invalid"


@dataclass(frozen=True, slots=True)
class _Workload:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None


_WORKLOADS = (
    _Workload("models.retrieve", "GET", "/models/gpt-4o"),
    _Workload(
        "chat (non-stream)",
        "POST",
        "/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16},
    ),
)

_Send = Callable[[_Workload], Awaitable[httpx.Response]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=positive_int, default=200, help="requests per round (default: 200)")
    parser.add_argument("--rounds", type=positive_int, default=3, help="rounds per mode; medians reported (default 3)")
    parser.add_argument("--no-loopback", action="store_true", help="skip the loopback server")
    parser.add_argument("--url", help="use this running server for the loopback mode instead of spawning one")


async def _measure(send: _Send, workload: _Workload, requests: int, rounds: int) -> tuple[float, float]:
    """Median wall and CPU microseconds per request over ``rounds`` rounds (after a warm-up round)."""
    walls: list[float] = []
    cpus: list[float] = []
    for index in range(rounds + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            response = await send(workload)
            if response.status_code != 200:
                raise RuntimeError(f"{workload.name}: HTTP {response.status_code}: {response.text[:200]}")
        if index:  # the first round warms up
            walls.append((time.perf_counter() - wall) / requests * 1e6)
            cpus.append((time.process_time() - cpu) / requests * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def _sender(client: httpx.AsyncClient, base: str) -> _Send:
    async def send(workload: _Workload) -> httpx.Response:
        return await client.request(workload.method, base + workload.path, json=workload.body, headers=_AUTH)

    return send


async def _canned_bodies() -> dict[str, bytes]:
    """What the fake answers to each workload: the respx baseline serves exactly these bytes."""
    async with inprocess_httpx_client(create_app(ServerConfig(seed=1))) as client:
        send = _sender(client, INPROCESS_BASE_URL)
        return {workload.name: (await send(workload)).content for workload in _WORKLOADS}


async def _run_all(args: argparse.Namespace, loopback_root: str | None) -> list[dict[str, Any]]:
    bodies = await _canned_bodies()
    rows: list[dict[str, Any]] = []
    for workload in _WORKLOADS:
        measured: dict[str, tuple[float, float]] = {}
        with respx.mock(assert_all_called=False) as router:
            router.route(host=_RESPX_HOST).respond(
                200, content=bodies[workload.name], headers={"content-type": "application/json"}
            )
            async with httpx.AsyncClient() as client:
                measured["respx canned"] = await _measure(
                    _sender(client, f"http://{_RESPX_HOST}/v1"), workload, args.requests, args.rounds
                )
        async with inprocess_httpx_client(create_app(ServerConfig(seed=1, journal_size=1000))) as client:
            measured["asgi transport"] = await _measure(
                _sender(client, INPROCESS_BASE_URL), workload, args.requests, args.rounds
            )
        with respx.mock(assert_all_called=False) as router:
            route_to_app(router, create_app(ServerConfig(seed=1, journal_size=1000)), host=_RESPX_HOST)
            async with httpx.AsyncClient() as client:
                measured["respx -> app"] = await _measure(
                    _sender(client, f"http://{_RESPX_HOST}/v1"), workload, args.requests, args.rounds
                )
        if loopback_root is not None:
            async with httpx.AsyncClient() as client:
                measured["loopback"] = await _measure(
                    _sender(client, f"{loopback_root}/v1"), workload, args.requests, args.rounds
                )
        wall_floor, cpu_floor = measured["respx canned"]
        for mode, (wall, cpu) in measured.items():
            rows.append(
                {
                    "workload": workload.name,
                    "mode": mode,
                    "requests": args.requests * args.rounds,
                    "wall_us": wall,
                    "cpu_us": cpu,
                    "wall_vs_respx": wall / wall_floor,
                    "cpu_vs_respx": cpu / cpu_floor,
                }
            )
    return rows


def run(args: argparse.Namespace) -> BenchResult:
    if args.no_loopback:
        rows = asyncio.run(_run_all(args, None))
    else:
        with server_url(args.url, seed=1) as root:
            rows = asyncio.run(_run_all(args, root))
    return BenchResult(
        benchmark="inprocess",
        columns=COLUMNS,
        rows=tuple(rows),
        details={"requests": args.requests, "rounds": args.rounds},
        notes=(
            "sequential requests, one httpx.AsyncClient per mode; x respx = this mode over the canned respx route",
            "loopback cpu us is the client process only (the server runs in its own process)",
        ),
    )
