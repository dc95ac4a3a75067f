"""``peers``: the fake beside other fake-LLM servers from the package index, same load, same machine, same run.

Peers live in a virtualenv of their own (never the project's dependencies): ``--install`` creates it and
installs them with uvloop and httptools, so every server gets the same uvicorn stack. Each peer is served by
``python -m uvicorn <its app>`` on 127.0.0.1 with ``--log-level warning`` (the fake's settings), from a scratch
directory holding the minimal config it needs to answer a chat completion:

- ``llmock``: ``llmock.main:create_app`` (no latency or chaos unless configured);
- ``stubllm``: ``stubllm.server:create_app`` without fixtures (it answers with its fallback text);
- ``fakellm``: ``fakellm.server:app`` with a config of no rules (echo fallback); it paces every stream chunk by a
  fixed 10 ms, so its events/s measure that pacing, not its speed;
- ``mockllm``: ``mockllm.server:app`` with an empty ``responses.yml`` and lag off. Its non-stream replies count
  tokens with ``tiktoken.encoding_for_model``, which downloads the encoding on first use; on a machine without
  network access every request retries the download (about 0.4 s each, blocking its event loop), so its chat
  figure there measures that, not the server.

Workloads are :mod:`bench.server`'s: non-stream chat at concurrency 32 and chat streams at concurrency 16
(default-length replies here, as the peers' replies are short too), in interleaved rounds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._loadgen import LoadJob, build_request
from ._result import BenchResult, Column
from ._rounds import load_average, measure_rounds, uvicorn_stack
from ._spawn import RunningServer, free_port, pin_cores, spawn_server
from ._table import render
from .server import CHAT_BODY, STREAM_BODY

__all__ = ["DESCRIPTION", "PEERS", "Peer", "add_arguments", "run"]

DESCRIPTION = "the fake beside installable peers (llmock, stubllm, fakellm, mockllm): chat req/s and SSE events/s"

OURS = "mockserver"


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    #: the distribution (and module) name
    package: str
    #: arguments after ``python -m uvicorn``
    app: tuple[str, ...]
    #: files to write into the scratch directory it runs in
    files: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    note: str = ""


PEERS = (
    Peer("llmock", "llmock", ("llmock.main:create_app", "--factory")),
    Peer("stubllm", "stubllm", ("stubllm.server:create_app", "--factory"), note="no fixtures: its fallback reply"),
    Peer(
        "fakellm",
        "fakellm",
        ("fakellm.server:app",),
        files=(("fakellm.yaml", "version: 1\ndefaults:\n  fallback: deterministic_echo\nrules: []\n"),),
        env=(("FAKELLM_CONFIG", "fakellm.yaml"),),
        note="streams paced by a fixed 10 ms per chunk",
    ),
    Peer(
        "mockllm",
        "mockllm",
        ("mockllm.server:app",),
        files=(("responses.yml", "responses: {}\nsettings:\n  lag_enabled: false\n"),),
        env=(("MOCKLLM_RESPONSES_FILE", "responses.yml"),),
        note="non-stream replies count tokens with tiktoken, which tries to download its encoding every time",
    ),
)

COLUMNS = (
    Column("server", "server"),
    Column("version", "version"),
    Column("chat_rps", "chat req/s", ".0f"),
    Column("chat_p50_ms", "p50 ms", ".1f"),
    Column("chat_p99_ms", "p99 ms", ".1f"),
    Column("sse_events_per_s", "SSE events/s", ".0f"),
    Column("events_per_stream", "events/stream"),
    Column("errors", "errors"),
    Column("vs_ours", "chat x ours", ".2f"),
    Column("note", "note"),
)


def default_venv() -> Path:
    return Path(tempfile.gettempdir()) / "mockserver-bench-peers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--venv", type=Path, default=None, help="the peers' virtualenv (default: in the temp dir)")
    parser.add_argument("--install", action="store_true", help="create the virtualenv and install the peers")
    parser.add_argument("--only", action="append", choices=[peer.name for peer in PEERS], help="peers to run")
    parser.add_argument("--rounds", type=int, default=2, help="runs per server and workload (medians reported)")
    parser.add_argument("--duration", type=float, default=1.5, help="seconds measured per run")
    parser.add_argument("--concurrency", type=int, default=32, help="connections for non-stream chat")
    parser.add_argument("--stream-concurrency", type=int, default=16, help="connections for streams")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and load generator")


def _install(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    packages = [peer.package for peer in PEERS] + ["uvloop", "httptools"]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages], check=True)


def _version(python: Path, package: str) -> str | None:
    """The installed version of ``package`` in the peers' venv, or ``None`` when it is not there."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    found = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def _sample_events(server: RunningServer) -> int:
    import httpx

    headers = {"Authorization": "Bearer sk-bench"}
    response = httpx.post(f"{server.url}/v1/chat/completions", json=STREAM_BODY, headers=headers, timeout=30)
    return response.content.count(b"\n\n") if response.status_code == 200 else 0


def _start_peer(stack: ExitStack, peer: Peer, python: Path, cpu: int | None, scratch: Path) -> RunningServer:
    workdir = scratch / peer.name
    workdir.mkdir()
    for name, text in peer.files:
        (workdir / name).write_text(text, encoding="utf-8")
    port = free_port()
    command = [str(python), "-m", "uvicorn", *peer.app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    # the peer runs in ``workdir``: the config paths in its environment are relative to it
    env = dict(peer.env)
    return stack.enter_context(spawn_server(peer.name, command, port=port, cpu=cpu, env=env, cwd=str(workdir)))


def run(args: argparse.Namespace) -> BenchResult:
    venv: Path = args.venv or default_venv()
    if args.install and not (venv / "bin" / "python").exists():
        _install(venv)
    python = venv / "bin" / "python"
    chosen = [peer for peer in PEERS if not args.only or peer.name in args.only]
    server_cpu, load_cpu = pin_cores(args.pin)
    rows: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp, ExitStack() as stack:
        port = free_port()
        ours_command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
        servers = [stack.enter_context(spawn_server(OURS, ours_command, port=port, cpu=server_cpu))]
        rows[OURS] = {"server": OURS, "version": "this tree"}
        for peer in chosen:
            version = _version(python, peer.package) if python.exists() else None
            if version is None:
                problems[peer.name] = f"not installed in {venv.name} (run with --install)"
                continue
            try:
                servers.append(_start_peer(stack, peer, python, server_cpu, Path(tmp)))
            except RuntimeError as exc:
                problems[peer.name] = f"did not start: {str(exc).splitlines()[0]}"
                continue
            rows[peer.name] = {"server": peer.name, "version": version, "note": peer.note or None}
        events = {server.name: _sample_events(server) for server in servers}
        request = build_request("/v1/chat/completions", CHAT_BODY)
        chat = LoadJob("127.0.0.1", 0, request, args.concurrency, args.duration, cpu=load_cpu)
        request = build_request("/v1/chat/completions", STREAM_BODY)
        stream = LoadJob("127.0.0.1", 0, request, args.stream_concurrency, args.duration, cpu=load_cpu)
        for measured in measure_rounds(servers, chat, args.rounds):
            rows[measured.name].update(
                chat_rps=measured.requests_per_s,
                chat_p50_ms=measured.p50_ms,
                chat_p99_ms=measured.p99_ms,
                errors=measured.errors,
            )
        for measured in measure_rounds(servers, stream, args.rounds):
            row = rows[measured.name]
            row.update(sse_events_per_s=measured.events_per_s, events_per_stream=events[measured.name])
            row["errors"] = row.get("errors", 0) + measured.errors
    ours = rows[OURS]["chat_rps"]
    for row in rows.values():
        row["vs_ours"] = row["chat_rps"] / ours if ours else None
    for name, problem in problems.items():
        rows[name] = {"server": name, "note": problem}
    stack_info = uvicorn_stack()
    return BenchResult(
        benchmark="peers",
        columns=COLUMNS,
        rows=tuple(rows.values()),
        details={"venv": venv.name, "problems": problems, "stack": stack_info, "rounds": args.rounds},
        notes=(
            f"medians of {args.rounds} interleaved rounds of {args.duration:g} s; chat at concurrency "
            f"{args.concurrency}, streams at {args.stream_concurrency}; load average {before:.1f} -> "
            f"{load_average():.1f}",
            "replies differ in size per server (each its own default); errors: non-200 answers or broken connections",
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=DESCRIPTION)
    add_arguments(parser)
    print(render(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
