"""The same load against several running servers, in interleaved rounds (A B C, B C A, ...) so that a busy
spell on a shared machine hits every server alike, summarised by medians.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._loadgen import LoadJob, LoadResult, measure
from ._spawn import RunningServer, cpu_seconds

__all__ = ["Measured", "load_average", "measure_rounds", "uvicorn_stack"]


@dataclass(frozen=True, slots=True)
class Measured:
    """One server's rounds under one load."""

    name: str
    results: tuple[LoadResult, ...]
    #: the server's CPU seconds during each run
    server_cpu: tuple[float, ...] = ()

    @property
    def requests_per_s(self) -> float:
        return statistics.median(result.requests_per_s for result in self.results)

    @property
    def events_per_s(self) -> float:
        return statistics.median(result.events_per_s for result in self.results)

    @property
    def p50_ms(self) -> float:
        return statistics.median(result.p50_ms for result in self.results)

    @property
    def p99_ms(self) -> float:
        return statistics.median(result.p99_ms for result in self.results)

    @property
    def cpu_us_per_request(self) -> float | None:
        """The server's CPU time per response it sent (steadier than req/s on a busy machine)."""
        if not self.server_cpu:
            return None
        per = [
            cpu / r.total_responses * 1e6
            for cpu, r in zip(self.server_cpu, self.results, strict=True)
            if r.total_responses
        ]
        return statistics.median(per) if per else None

    @property
    def errors(self) -> int:
        return sum(result.errors for result in self.results)

    def row(self) -> dict[str, Any]:
        return {
            "server": self.name,
            "requests_per_s": self.requests_per_s,
            "events_per_s": self.events_per_s if any(result.events for result in self.results) else None,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "cpu_us": self.cpu_us_per_request,
        }


def measure_rounds(
    servers: Sequence[RunningServer], job: LoadJob, rounds: int, *, request_for: dict[str, str] | None = None
) -> list[Measured]:
    """``rounds`` runs of ``job`` against each server, the order rotating every round. ``request_for`` gives a
    server (by name) a request of its own; the others send ``job.request``."""
    results: dict[str, list[LoadResult]] = {server.name: [] for server in servers}
    cpu: dict[str, list[float]] = {server.name: [] for server in servers}
    for round_ in range(rounds):
        shift = round_ % len(servers)
        for server in [*servers[shift:], *servers[:shift]]:
            request = (request_for or {}).get(server.name, job.request)
            run = replace(job, host=server.host, port=server.port, request=request)
            before = cpu_seconds(server.pid)
            results[server.name].append(measure(run))
            cpu[server.name].append(cpu_seconds(server.pid) - before)
    return [Measured(server.name, tuple(results[server.name]), tuple(cpu[server.name])) for server in servers]


def load_average() -> float:
    """The 1-minute load average of the machine (how busy it was while measuring)."""
    return os.getloadavg()[0]


def uvicorn_stack() -> dict[str, str]:
    """What uvicorn picks here with its ``auto`` settings (uvloop and httptools when they are installed)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    return {"loop": loop, "http": AutoHTTPProtocol.__name__}
