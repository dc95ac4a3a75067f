"""``client_vs_sdk``: our client (httpx and native aiohttp transports) against the official SDK (its default
transport and its ``DefaultAioHttpClient``), on one mock server in its own process (so its CPU is not counted).

Two measurements per client, each in a fresh event loop after a warm-up:

* non-streamed chat completions, ``concurrency`` in flight at once: requests per second and CPU per request;
* one long streamed chat completion (a queued canned reply of ``stream_tokens`` words, about one event each):
  chunks per second and CPU per chunk.

The notes give our CPU per request and per chunk as a fraction of the SDK's on the same transport (the project's
bound: at most :data:`CPU_RATIO_BOUND`).

CPU is ``time.process_time()`` of this process only (every thread), so the server's work is not counted. Each
measurement runs ``rounds`` times and the best round is reported (the one least disturbed by other load). With two
or more cores the server is pinned to the first and this process to the last (``--no-pin`` to leave them free), so
client and server never compete for one core and each client is measured on the same core as the others.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ._arguments import positive_int
from ._result import BenchResult, Column
from ._spawn import pin_cores
from ._target import server_url

__all__ = ["CLIENTS", "DESCRIPTION", "Measurement", "add_arguments", "run"]

DESCRIPTION = "our client vs the official SDK, each on httpx and aiohttp: req/s at concurrency, stream chunks/s"

COLUMNS = (
    Column("client", "client"),
    Column("transport", "transport"),
    Column("requests_per_s", "req/s", ".0f"),
    Column("cpu_ms_per_request", "CPU ms/req", ".3f"),
    Column("chunks_per_s", "chunks/s", ".0f"),
    Column("cpu_us_per_chunk", "CPU us/chunk", ".1f"),
)

#: our CPU per request and per chunk may be at most this fraction of the SDK's on the same transport
CPU_RATIO_BOUND = 0.3
#: transport -> (our row, the SDK's row) compared
_PAIRS = {"httpx": ("ours-httpx", "sdk-httpx"), "aiohttp": ("ours-aiohttp", "sdk-aiohttp")}

_STORY_WORDS = ("once", "upon", "a", "time", "the", "fox", "jumped", "over", "lazy", "dogs")
_MESSAGES = [{"role": "user", "content": "Tell me a long story."}]


#: ours or the SDK's ``AsyncOpenAI``: the benchmark uses ``chat.completions.create`` and ``close`` of either
_Client = Any


def _ours_httpx(base_url: str) -> _Client:
    from client import AsyncOpenAI

    return AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)


def _ours_aiohttp(base_url: str) -> _Client:
    from client import AsyncOpenAI, DefaultAioHttpClient

    return AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0, http_client=DefaultAioHttpClient())


def _sdk_default(base_url: str) -> _Client:
    import openai

    return openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)


def _sdk_aiohttp(base_url: str) -> _Client:
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url, api_key="sk-bench", max_retries=0, http_client=openai.DefaultAioHttpClient()
    )


#: short name -> (client, transport, factory), in table order
CLIENTS: dict[str, tuple[str, str, Callable[[str], _Client]]] = {
    "ours-httpx": ("ours", "HttpxTransport", _ours_httpx),
    "ours-aiohttp": ("ours", "DefaultAioHttpClient", _ours_aiohttp),
    "sdk-httpx": ("openai sdk", "default (httpx2)", _sdk_default),
    "sdk-aiohttp": ("openai sdk", "DefaultAioHttpClient", _sdk_aiohttp),
}


@dataclass(frozen=True, slots=True)
class Measurement:
    """``count`` units of work (requests or chunks) in ``wall`` seconds, costing ``cpu`` seconds of this process."""

    count: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.count / self.wall

    @property
    def cpu_per_unit(self) -> float:
        return self.cpu / self.count


async def _measured(work: Callable[[], Awaitable[int]]) -> Measurement:
    wall, cpu = time.perf_counter(), time.process_time()
    count = await work()
    return Measurement(count, time.perf_counter() - wall, time.process_time() - cpu)


async def _requests(client: _Client, total: int, concurrency: int, max_tokens: int) -> int:
    tickets = iter(range(total))

    async def worker() -> None:
        for _ in tickets:
            completion = await client.chat.completions.create(model="gpt-4o", messages=_MESSAGES, max_tokens=max_tokens)
            if not completion.choices:
                raise RuntimeError("a completion without choices")

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, total)):
            group.create_task(worker())
    return total


async def _stream_chunks(client: _Client) -> int:
    stream = await client.chat.completions.create(model="gpt-4o", messages=_MESSAGES, stream=True)
    chunks = 0
    async for _ in stream:
        chunks += 1
    return chunks


async def _queue_long_reply(root: str, words: int) -> None:
    """Have the server answer the next completion with ``words`` words (about one token, one chunk, each)."""
    text = " ".join(_STORY_WORDS[index % len(_STORY_WORDS)] for index in range(words))
    async with httpx.AsyncClient() as control:
        response = await control.post(f"{root}/_mock/replies", json=[text])
        response.raise_for_status()


async def _bench_client(factory: Callable[[str], _Client], root: str, args: argparse.Namespace) -> dict[str, Any]:
    client = factory(f"{root}/v1")
    try:
        await _requests(client, args.concurrency, args.concurrency, args.max_tokens)  # warm-up: open the pool
        requests = [
            await _measured(lambda: _requests(client, args.requests, args.concurrency, args.max_tokens))
            for _ in range(args.rounds)
        ]
        streams = []
        for round_number in range(args.rounds + 1):
            await _queue_long_reply(root, args.stream_tokens)
            streamed = await _measured(lambda: _stream_chunks(client))
            if round_number:  # the first stream is a warm-up
                streams.append(streamed)
    finally:
        await client.close()
    best_requests = min(requests, key=lambda measurement: measurement.wall)
    best_stream = min(streams, key=lambda measurement: measurement.wall)
    return {
        "requests_per_s": best_requests.per_second,
        "cpu_ms_per_request": best_requests.cpu_per_unit * 1e3,
        "chunks_per_s": best_stream.per_second,
        "cpu_us_per_chunk": best_stream.cpu_per_unit * 1e6,
        "chunks": best_stream.count,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=positive_int, default=64, help="requests in flight (default: 64)")
    parser.add_argument("--requests", type=positive_int, default=2000, help="requests per round (default: 2000)")
    parser.add_argument("--max-tokens", type=positive_int, default=16, help="tokens per non-streamed reply")
    parser.add_argument("--stream-tokens", type=positive_int, default=5000, help="words (chunks) in the long stream")
    parser.add_argument("--rounds", type=positive_int, default=3, help="rounds per measurement; the best is kept")
    parser.add_argument("--url", help="bench a running mock server at this URL instead of spawning one")
    parser.add_argument("--only", choices=sorted(CLIENTS), action="append", help="bench only these (repeatable)")
    parser.add_argument(
        "--pin", action=argparse.BooleanOptionalAction, default=True, help="server and client on separate cores"
    )


@contextlib.contextmanager
def _pinned_server(url: str | None, pin: bool) -> Iterator[tuple[str, str]]:
    """The server's root URL, started on the first core while this process moves to the last one; and how the
    cores were assigned. The process's affinity is restored on the way out."""
    server_core, client_core = pin_cores(pin and url is None)
    if server_core is None or client_core is None:
        with server_url(url) as root:
            yield root, "not pinned"
        return
    original = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {server_core})  # the spawned server inherits this core
        with server_url(url) as root:
            os.sched_setaffinity(0, {client_core})
            yield root, f"server on core {server_core}, client on core {client_core}"
    finally:
        os.sched_setaffinity(0, original)


def _cpu_ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Our CPU per request and per chunk over the SDK's, per transport benched for both."""
    by_name = {row["name"]: row for row in rows}
    ratios = {}
    for transport, (ours, sdk) in _PAIRS.items():
        if (
            ours in by_name
            and sdk in by_name
            and by_name[sdk]["cpu_ms_per_request"]
            and by_name[sdk]["cpu_us_per_chunk"]
        ):
            ratios[transport] = {
                "per_request": by_name[ours]["cpu_ms_per_request"] / by_name[sdk]["cpu_ms_per_request"],
                "per_chunk": by_name[ours]["cpu_us_per_chunk"] / by_name[sdk]["cpu_us_per_chunk"],
            }
    return ratios


def run(args: argparse.Namespace) -> BenchResult:
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    with _pinned_server(args.url, args.pin) as (root, pinning):
        for name, (client, transport, factory) in CLIENTS.items():
            if args.only and name not in args.only:
                continue
            measured = asyncio.run(_bench_client(factory, root, args))
            rows.append({"name": name, "client": client, "transport": transport, **measured})
    ratios = _cpu_ratios(rows)
    details = {
        "cpu_ratio_vs_sdk": ratios,
        "concurrency": args.concurrency,
        "requests_per_round": args.requests,
        "max_tokens": args.max_tokens,
        "stream_tokens": args.stream_tokens,
        "rounds": args.rounds,
        "chunks_per_stream": {row["name"]: row.pop("chunks") for row in rows},
        "total_seconds": round(time.perf_counter() - began, 3),
        "pinning": pinning,
        "load_average": os.getloadavg(),
    }
    notes = (
        f"non-streamed: {args.requests} chat completions at concurrency {args.concurrency}, best of {args.rounds};",
        f"stream: one completion of {args.stream_tokens} words, best of {args.rounds}; CPU: this process only.",
        f"{pinning}; load average at the end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}.",
        *(
            f"ours / SDK CPU on {transport}: {ratio['per_request']:.2f}x per request, {ratio['per_chunk']:.2f}x per "
            f"chunk (bound {CPU_RATIO_BOUND}x)"
            for transport, ratio in ratios.items()
        ),
    )
    return BenchResult("client_vs_sdk", COLUMNS, tuple(rows), details, notes)
