"""The hostile soak: for a while (10 minutes by default), a seeded mix of normal and hostile requests against one
``mockserver serve`` process whose journal has a small byte budget, with ``/health`` asked every 50 ms.

Hostile means the attacks of issue 15: the few-hundred-byte schema that asks for gigabytes (at the default output
limit, streamed and not, ``n`` up to 8), bodies of millions of empty objects (413), heads over the size limit
(431), 2,049 prompts and 129 tools (400), rules and fault headers with unusable numbers (400), and half-sent
requests left hanging (closed after the header timeout). Normal is chat, Responses and completions, plain and
streamed, and scripted 500s (``X-Mock-Fault: 500``).

Checks: RSS flat once the journal budget has filled (the median RSS of the last fifth of the run may exceed that
of the fifth after the warm-up by at most ``--rss-growth``), no 5xx that was not scripted (nor a dropped
connection), every health check answered, and a clean exit on SIGTERM within
2 s. Run it as ``python -m bench hostile_soak``; ``--duration 5`` for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ._result import BenchResult, Column
from ._spawn import resident_kib

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "hostile and normal requests for 10 minutes: RSS flat once the journal is full, no unscripted 5xx"
_SERVING = re.compile(r"serving the fake OpenAI API at (http://\S+)/v1")
_AUTH = {"Authorization": "Bearer sk-hostile-soak"}
_HEALTH_INTERVAL = 0.05
_MB = 1024 * 1024

_ATTACK_SCHEMA = {
    "type": "object",
    "required": ["a"],
    "properties": {
        "a": {
            "type": "array",
            "minItems": 256,
            "items": {"type": "array", "minItems": 256, "items": {"type": "string", "minLength": 256}},
        }
    },
}
_HI = [{"role": "user", "content": "hi"}]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=600.0, help="seconds to run (default 600)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the mix")
    parser.add_argument("--journal-bytes", type=int, default=8 * _MB, help="the server's journal budget")
    parser.add_argument("--rss-growth", type=float, default=0.10, help="RSS growth allowed after the warm-up")


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    weight: int
    #: the statuses this kind may get; a 5xx outside them is a failure
    expected: frozenset[int]


_KINDS = (
    _Kind("chat", 30, frozenset({200})),
    _Kind("chat_stream", 20, frozenset({200})),
    _Kind("responses", 10, frozenset({200})),
    _Kind("completions", 10, frozenset({200})),
    _Kind("scripted_500", 5, frozenset({500})),
    _Kind("schema_attack", 4, frozenset({200})),
    _Kind("schema_attack_stream", 2, frozenset({200})),
    _Kind("empty_objects_body", 2, frozenset({413})),
    _Kind("huge_head", 3, frozenset({400, 431})),
    _Kind("too_many_prompts", 3, frozenset({400})),
    _Kind("too_many_tools", 3, frozenset({400})),
    _Kind("unusable_rule", 3, frozenset({400})),
    _Kind("unusable_fault_header", 3, frozenset({400})),
    _Kind("slowloris", 2, frozenset({0})),
)


@dataclass(slots=True)
class _Tally:
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unexpected: list[str] = field(default_factory=list)
    health_answered: int = 0
    health_failed: int = 0
    health_slowest: float = 0.0
    rss: list[tuple[float, int]] = field(default_factory=list)


def _request(kind: str, rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, headers, body) of one request of ``kind``."""
    chat = "/v1/chat/completions"
    if kind in ("chat", "chat_stream"):
        body: dict[str, Any] = {"model": "gpt-4o", "messages": _HI, "n": rng.choice([1, 1, 2, 4])}
        if kind == "chat_stream":
            body["stream"] = True
        return "POST", chat, {}, json.dumps(body).encode()
    if kind == "responses":
        return "POST", "/v1/responses", {}, json.dumps({"model": "gpt-4o", "input": "hi", "store": False}).encode()
    if kind == "completions":
        body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["say"] * rng.randint(1, 64), "n": rng.randint(1, 4)}
        return "POST", "/v1/completions", {}, json.dumps(body).encode()
    if kind == "scripted_500":
        return "POST", chat, {"X-Mock-Fault": "500"}, json.dumps({"model": "gpt-4o", "messages": _HI}).encode()
    if kind in ("schema_attack", "schema_attack_stream"):
        tool = {"type": "function", "function": {"name": "t", "parameters": _ATTACK_SCHEMA}}
        body = {"model": "gpt-4o", "messages": _HI, "tools": [tool], "tool_choice": "required"}
        body["n"] = rng.choice([1, 2, 8]) if kind == "schema_attack" else 1
        body["stream"] = kind == "schema_attack_stream"
        return "POST", chat, {}, json.dumps(body).encode()
    if kind == "empty_objects_body":
        return "POST", chat, {}, b'{"model":"gpt-4o","messages":[' + b"{}," * (4 * _MB) + b"{}]}"
    if kind == "huge_head":
        return "GET", "/v1/models", {"x-filler": "a" * 200_000}, b""
    if kind == "too_many_prompts":
        body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["a"] * 2049}
        return "POST", "/v1/completions", {}, json.dumps(body).encode()
    if kind == "too_many_tools":
        tools = [{"type": "function", "function": {"name": f"t{i}"}} for i in range(129)]
        return "POST", chat, {}, json.dumps({"model": "gpt-4o", "messages": _HI, "tools": tools}).encode()
    if kind == "unusable_rule":
        rule = rng.choice(
            [
                {"action": {"type": "rate_limit", "retry_after": 1e308}},
                {"action": {"type": "latency", "ttft": {"dist": "lognormal", "median": 0.1, "sigma": 1e6}}},
                {"action": {"type": "status", "status": 500, "headers": {"x": "\u20ac"}}},
            ]
        )
        return "POST", "/_mock/rules", {}, json.dumps(rule).encode()
    if kind == "unusable_fault_header":
        return "GET", "/v1/models", {"X-Mock-Fault": "rate_limit retry_after=inf"}, b""
    raise ValueError(kind)


async def _slowloris(root: str, hold: float) -> int:
    """A half-sent request, held until the server closes it; 0 when it did (within ``hold`` s)."""
    host, port = root.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        data = await asyncio.wait_for(reader.read(1), hold)
        return 0 if data == b"" else 200
    except TimeoutError:
        return -1
    finally:
        writer.close()


async def _worker(root: str, client: httpx.AsyncClient, rng: random.Random, deadline: float, tally: _Tally) -> None:
    kinds = list(_KINDS)
    weights = [kind.weight for kind in _KINDS]
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        started = time.monotonic()
        if kind.name == "slowloris":
            status = await _slowloris(root, 30.0)
        else:
            method, path, headers, body = _request(kind.name, rng)
            try:
                async with client.stream(method, path, content=body or None, headers={**_AUTH, **headers}) as reply:
                    async for _ in reply.aiter_raw():
                        pass
                    status = reply.status_code
            except httpx.HTTPError as exc:
                status = -1
                tally.unexpected.append(f"{kind.name}: {type(exc).__name__}")
        tally.statuses[kind.name][status] += 1
        tally.seconds[kind.name].append(time.monotonic() - started)
        if status not in kind.expected and (status >= 500 or status < 0):
            tally.unexpected.append(f"{kind.name}: {status}")


async def _monitor(root: str, pid: int, deadline: float, tally: _Tally) -> None:
    started = time.monotonic()
    next_rss = started
    async with httpx.AsyncClient(base_url=root, timeout=5) as client:
        while time.monotonic() < deadline:
            begun = time.monotonic()
            try:
                ok = (await client.get("/health")).status_code == 200
            except httpx.HTTPError:
                ok = False
            took = time.monotonic() - begun
            tally.health_answered += ok
            tally.health_failed += not ok
            tally.health_slowest = max(tally.health_slowest, took)
            if begun >= next_rss:
                tally.rss.append((begun - started, resident_kib(pid) * 1024))
                next_rss = begun + 1.0
            await asyncio.sleep(_HEALTH_INTERVAL)


async def _drive(root: str, pid: int, args: argparse.Namespace) -> _Tally:
    tally = _Tally()
    deadline = time.monotonic() + args.duration
    limits = httpx.Limits(max_connections=args.concurrency + 2)
    async with httpx.AsyncClient(base_url=root, timeout=120, limits=limits) as client:
        workers = [
            _worker(root, client, random.Random(f"{args.seed}:{number}"), deadline, tally)
            for number in range(args.concurrency)
        ]
        await asyncio.gather(_monitor(root, pid, deadline, tally), *workers)
    return tally


@contextmanager
def _spawned(journal_bytes: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "config.json"
        config.write_text(json.dumps({"journal_bytes": journal_bytes, "header_read_timeout": 2.0}))
        command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--config", str(config)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert process.stdout is not None
            found = _SERVING.search(process.stdout.readline())
            if found is None:
                raise RuntimeError("the mock server did not start")
            yield found.group(1), process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _stop_seconds(process: subprocess.Popen[str]) -> float | None:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - started


def run(args: argparse.Namespace) -> BenchResult:
    with _spawned(args.journal_bytes) as (root, process):
        tally = asyncio.run(_drive(root, process.pid, args))
        stopped_in = _stop_seconds(process)
    warm = [rss for at, rss in tally.rss if at >= args.duration / 5] or [rss for _, rss in tally.rss]
    # flat: the typical RSS of the run's last fifth against that of the fifth after the warm-up (the medians, so
    # the transient peaks of hostile requests, which are freed, do not count as growth)
    fifth = max(1, len(warm) // 4)
    baseline, highest, last = statistics.median(warm[:fifth]), max(warm), statistics.median(warm[-fifth:])
    growth = (last - baseline) / baseline
    checks = {
        "rss_flat": growth <= args.rss_growth,
        "no_unscripted_5xx": not tally.unexpected,
        "health_always_answered": tally.health_failed == 0,
        "sigterm_within_2s": stopped_in is not None and stopped_in < 2.0,
    }
    rows = []
    for kind in _KINDS:
        seconds = sorted(tally.seconds.get(kind.name, []))
        rows.append(
            {
                "kind": kind.name,
                "requests": len(seconds),
                "statuses": " ".join(
                    f"{status}x{count}" for status, count in sorted(tally.statuses[kind.name].items())
                ),
                "p50_ms": seconds[len(seconds) // 2] * 1000 if seconds else None,
                "max_ms": seconds[-1] * 1000 if seconds else None,
            }
        )
    details = {
        "duration": args.duration,
        "concurrency": args.concurrency,
        "journal_bytes": args.journal_bytes,
        "rss_after_warmup_mb": baseline / _MB,
        "rss_max_mb": highest / _MB,
        "rss_end_mb": last / _MB,
        "rss_growth": growth,
        "health_answered": tally.health_answered,
        "health_failed": tally.health_failed,
        "health_slowest_ms": tally.health_slowest * 1000,
        "sigterm_seconds": stopped_in,
        "unexpected": tally.unexpected[:20],
        "checks": checks,
        "passed": all(checks.values()),
    }
    verdict = "PASSED" if details["passed"] else "FAILED: " + ", ".join(name for name, ok in checks.items() if not ok)
    return BenchResult(
        benchmark="hostile_soak",
        columns=(
            Column("kind", "kind"),
            Column("requests", "n"),
            Column("statuses", "statuses"),
            Column("p50_ms", "p50 ms", ".1f"),
            Column("max_ms", "max ms", ".1f"),
        ),
        rows=tuple(rows),
        details=details,
        notes=(
            f"RSS median after warm-up {baseline / _MB:.0f} MB, at the end {last / _MB:.0f} MB, "
            f"max {highest / _MB:.0f} MB "
            f"(growth {growth:+.1%}, allowed {args.rss_growth:.0%}); /health {tally.health_answered} answered, "
            f"{tally.health_failed} failed, slowest {tally.health_slowest * 1000:.0f} ms; SIGTERM exit "
            f"{'-' if stopped_in is None else f'{stopped_in:.2f} s'}",
            verdict,
        ),
    )
