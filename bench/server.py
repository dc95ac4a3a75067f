"""``server``: the fake's throughput beside the limit of its own stack.

Two workloads, each against two servers started side by side in their own processes with the same uvicorn
settings (``mockserver serve``'s), loaded by a separate load-generator process (:mod:`bench._loadgen`):

- ``chat``: non-stream ``POST /v1/chat/completions`` at concurrency 32 - requests/s and p50/p99 latency;
- ``sse``: a 500-event chat completion stream at concurrency 16 - events/s.

Each workload runs with two kinds of body: ``distinct`` (the default, first row: every request a body the server
has not seen, ``"Hello! How are you? number N"`` - traffic shaped like users') and ``repeated`` (one body sent over
and over, the second row; what a cache keyed on the body would flatter).

The bare server (:mod:`bench._bare`) answers with the very bytes the fake gave for the same request, so the
ratio ``x bare`` is the share of the stack's limit the fake reaches (the target is 0.8 or more). With two or
more cores the server runs on the first and the load generator on the last (``--no-pin`` turns that off); other
work on the machine still competes, so rounds alternate between the servers and medians are reported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ._bare import split_events
from ._loadgen import LoadJob, build_request
from ._result import BenchResult, Column
from ._rounds import Measured, load_average, measure_rounds, uvicorn_stack
from ._spawn import RunningServer, free_port, pin_cores, spawn_server
from ._table import render

__all__ = ["BODIES", "CHAT_BODY", "DESCRIPTION", "STREAM_BODY", "WORKLOADS", "add_arguments", "run"]

DESCRIPTION = "server throughput: non-stream chat req/s and SSE events/s, beside bare Starlette on the same uvicorn"

WORKLOADS = ("chat", "sse")
#: the kinds of request body, the default first
BODIES = ("distinct", "repeated")
CHAT_BODY: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello! How are you?"}]}
#: the streamed request; the server's config makes its reply ``--events`` SSE events long
STREAM_BODY: dict[str, Any] = {**CHAT_BODY, "stream": True}

COLUMNS = (
    Column("workload", "workload"),
    Column("body", "body"),
    Column("server", "server"),
    Column("concurrency", "conc"),
    Column("requests_per_s", "req/s", ".0f"),
    Column("events_per_s", "events/s", ".0f"),
    Column("p50_ms", "p50 ms", ".2f"),
    Column("p99_ms", "p99 ms", ".2f"),
    Column("errors", "errors"),
    Column("cpu_us", "server cpu us/resp", ".0f"),
    Column("ratio", "x bare", ".2f"),
    Column("cpu_ratio", "cpu x bare", ".2f"),
)


def _long_reply_config(events: int) -> dict[str, Any]:
    # role chunk + text pieces + finish chunk + [DONE]
    pieces = events - 3
    return {"min_reply_tokens": pieces, "max_reply_tokens": pieces}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", choices=WORKLOADS, action="append", help="run only this workload (repeatable)")
    parser.add_argument(
        "--body", choices=BODIES, action="append", help="request bodies: distinct (default) and repeated (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and workload (medians reported)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of load before measuring")
    parser.add_argument("--concurrency", type=int, default=32, help="connections for the chat workload")
    parser.add_argument("--stream-concurrency", type=int, default=16, help="connections for the sse workload")
    parser.add_argument("--events", type=int, default=500, help="events per stream (at least 4)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and load generator")


@contextlib.contextmanager
def _mock_server(port: int, cpu: int | None, config: dict[str, Any] | None, workdir: Path) -> Iterator[RunningServer]:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
    if config is not None:
        path = workdir / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        command += ["--config", str(path)]
    with spawn_server("mockserver", command, port=port, cpu=cpu) as server:
        yield server


@contextlib.contextmanager
def _bare_server(port: int, cpu: int | None, flag: str, content: bytes, workdir: Path) -> Iterator[RunningServer]:
    path = workdir / f"bare{flag.replace('-', '_')}.bin"
    path.write_bytes(content)
    command = [sys.executable, "-m", "bench._bare", "--port", str(port), flag, str(path)]
    with spawn_server("bare starlette", command, port=port, cpu=cpu) as server:
        yield server


def _sample(server: RunningServer, body: dict[str, Any]) -> bytes:
    """The fake's reply to ``body``: what the bare server will send back."""
    headers = {"Authorization": "Bearer sk-bench"}
    response = httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.content


def _workload(
    name: str, bodies: list[str], args: argparse.Namespace, workdir: Path
) -> tuple[dict[str, list[Measured]], dict[str, Any]]:
    """Both servers started once per workload, then measured with each kind of body in turn."""
    server_cpu, load_cpu = pin_cores(args.pin)
    stream = name == "sse"
    body = STREAM_BODY if stream else CHAT_BODY
    config = _long_reply_config(args.events) if stream else None
    concurrency = args.stream_concurrency if stream else args.concurrency
    measured: dict[str, list[Measured]] = {}
    with _mock_server(free_port(), server_cpu, config, workdir) as mock:
        sample = _sample(mock, body)
        if stream and len(split_events(sample)) != args.events:
            raise RuntimeError(f"the fake streamed {len(split_events(sample))} events, expected {args.events}")
        flag = "--stream" if stream else "--body"
        with _bare_server(free_port(), server_cpu, flag, sample, workdir) as bare:
            for kind in bodies:
                request = build_request("/v1/chat/completions", body, distinct=kind == "distinct")
                job = LoadJob("127.0.0.1", 0, request, concurrency, args.duration, args.warmup, load_cpu)
                measured[kind] = measure_rounds([mock, bare], job, args.rounds)
    return measured, {"concurrency": concurrency, "reply_bytes": len(sample)}


def _ratio(name: str, mock: Measured, bare: Measured) -> float | None:
    key = "events_per_s" if name == "sse" else "requests_per_s"
    base = getattr(bare, key)
    return getattr(mock, key) / base if base else None


def _rows(name: str, body: str, measured: list[Measured], concurrency: int) -> list[dict[str, Any]]:
    mock, bare = measured
    ratio = _ratio(name, mock, bare)
    cpu_ratio = None
    if mock.cpu_us_per_request and bare.cpu_us_per_request:
        cpu_ratio = bare.cpu_us_per_request / mock.cpu_us_per_request
    rows = []
    for item in measured:
        row = {"workload": name, "body": body, "concurrency": concurrency, **item.row()}
        row["ratio"], row["cpu_ratio"] = (ratio, cpu_ratio) if item is mock else (1.0, 1.0)
        rows.append(row)
    return rows


def _details(name: str, measured: list[Measured]) -> dict[str, Any]:
    mock, bare = measured
    key = "events_per_s" if name == "sse" else "requests_per_s"
    return {
        "ratio": _ratio(name, mock, bare),
        #: each round's ratio (the rounds interleave, so a busy spell hits both servers of a round alike)
        "round_ratios": [
            getattr(m, key) / getattr(b, key) if getattr(b, key) else None
            for m, b in zip(mock.results, bare.results, strict=True)
        ],
        "rounds": {item.name: [getattr(result, key) for result in item.results] for item in measured},
        "load_generator_cpu_share": max(r.cpu_seconds / r.seconds for item in measured for r in item.results),
    }


def run(args: argparse.Namespace) -> BenchResult:
    if args.events < 4:
        raise SystemExit("--events must be at least 4")
    rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {"stack": uvicorn_stack(), "pinned": args.pin, "rounds": args.rounds}
    details["load_average_before"] = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        bodies = [kind for kind in BODIES if kind in (args.body or BODIES)]
        for name in args.only or WORKLOADS:
            by_body, facts = _workload(name, bodies, args, Path(tmp))
            details[name] = dict(facts)
            for kind, measured in by_body.items():
                rows += _rows(name, kind, measured, facts["concurrency"])
                details[name][kind] = _details(name, measured)
    details["load_average_after"] = load_average()
    stack = details["stack"]
    return BenchResult(
        benchmark="server",
        columns=COLUMNS,
        rows=tuple(rows),
        details=details,
        notes=(
            f"uvicorn on {stack['loop']} + {stack['http']}; medians of {args.rounds} interleaved rounds of "
            f"{args.duration:g} s; load average {details['load_average_before']:.1f} -> "
            f"{details['load_average_after']:.1f}",
            "x bare: the fake over bare Starlette sending the same bytes (req/s for chat, events/s for sse); "
            "cpu x bare: bare's server CPU per response over the fake's (1.0 = as cheap; steadier on a busy box)",
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=DESCRIPTION)
    add_arguments(parser)
    print(render(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
