"""A closed-loop HTTP/1.1 load generator that runs in a process of its own, so it never shares a GIL (or, when
pinned, a core) with the server it measures.

``concurrency`` keep-alive connections each send one pre-encoded request, read the whole response (parsed by
httptools, the C parser uvicorn uses) and send it again. A request built with ``distinct=True`` carries a
fixed-width counter in its body (:data:`COUNTER_MARK`): every send fills it with the next number, so each request
is a body the server has not seen (traffic shaped like users'), at the cost of one ``bytes`` join per send.
Nothing is timed during ``warmup``; then for
``duration`` seconds every response that completes is counted with its latency, and every SSE event (a blank line
ending an event) that arrives is counted. Cheap per request on purpose: the point is to measure the server.

:func:`measure` (the parent's side) starts ``python -m bench._loadgen``, hands it a :class:`LoadJob` as JSON on
stdin and reads one :class:`LoadResult` back from its stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, cast

import httptools

from ._stats import summarize

__all__ = ["COUNTER_MARK", "LoadJob", "LoadResult", "build_request", "measure"]

#: where a distinct request's counter goes: as wide as the numbers that replace it, so Content-Length holds
COUNTER_MARK = "#" * 12
_COUNTER_FORMAT = b"%012d"


@dataclass(frozen=True, slots=True)
class LoadJob:
    host: str
    port: int
    #: the raw request, sent as it is on every round trip (latin-1 text, so it travels in JSON)
    request: str
    concurrency: int
    duration: float
    warmup: float = 0.5
    #: the core to pin the load generator to, if any
    cpu: int | None = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    #: responses that were not 200, and connections that broke
    errors: int
    events: int
    seconds: float
    p50_ms: float
    p99_ms: float
    #: CPU seconds the load generator itself used while measuring
    cpu_seconds: float
    #: every response completed, warm-up and wind-down included (what the server's CPU time was spent on)
    total_responses: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def build_request(path: str, body: Any, *, api_key: str = "sk-bench", distinct: bool = False) -> str:
    """A keep-alive JSON POST to any loopback server, pre-encoded. ``distinct``: the last message's content gets
    ``" number <counter>"`` appended, the counter filled in per send by the load generator."""
    if distinct:
        *earlier, last = body["messages"]
        body = {**body, "messages": [*earlier, {**last, "content": f"{last['content']} number {COUNTER_MARK}"}]}
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return (head.encode("latin-1") + payload).decode("latin-1")


class _Tally:
    """What every connection reports into; counting only while ``measuring``."""

    def __init__(self) -> None:
        self.measuring = False
        self.stopping = False
        self.latencies: list[float] = []
        self.errors = 0
        self.events = 0
        self.responses = 0


class _Requests:
    """The bytes of every request sent: the same each time, or each with the next number in its counter."""

    def __init__(self, request: bytes) -> None:
        self._parts = request.split(COUNTER_MARK.encode("latin-1"))
        if len(self._parts) > 2:
            raise ValueError("a request carries at most one counter")
        # a fresh start per run, so rounds never send a body an earlier round sent
        self._counter = random.randrange(10**11)

    def next(self) -> bytes:
        if len(self._parts) == 1:
            return self._parts[0]
        self._counter += 1
        return self._parts[0] + _COUNTER_FORMAT % self._counter + self._parts[1]


class _Connection(asyncio.Protocol):
    def __init__(self, requests: _Requests, tally: _Tally, closed: asyncio.Future[None]) -> None:
        self._requests = requests
        self._tally = tally
        self._closed = closed
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._sent_at = 0.0
        self._last_byte = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        self._sent_at = time.perf_counter()
        self._last_byte = b""
        self._transport.write(self._requests.next())

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        if self._tally.measuring:
            events = body.count(b"\n\n")
            if self._last_byte == b"\n" and body[:1] == b"\n":
                events += 1
            self._tally.events += events
        self._last_byte = body[-1:]

    def on_message_complete(self) -> None:
        tally = self._tally
        tally.responses += 1
        if tally.measuring:
            if self._parser.get_status_code() == 200:
                tally.latencies.append(time.perf_counter() - self._sent_at)
            else:
                tally.errors += 1
        if tally.stopping:
            assert self._transport is not None
            self._transport.close()
        else:
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._tally.stopping:
            self._tally.errors += 1
        if not self._closed.done():
            self._closed.set_result(None)


async def _run(job: LoadJob) -> LoadResult:
    loop = asyncio.get_running_loop()
    tally = _Tally()
    requests = _Requests(job.request.encode("latin-1"))
    closed: list[asyncio.Future[None]] = []
    for _ in range(job.concurrency):
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(partial(_Connection, requests, tally, done), job.host, job.port)
        closed.append(done)
    await asyncio.sleep(job.warmup)
    tally.measuring = True
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.sleep(job.duration)
    tally.measuring = False
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    tally.stopping = True
    await asyncio.wait_for(asyncio.gather(*closed), timeout=30)
    latencies = summarize(tally.latencies or [0.0])
    return LoadResult(
        requests=len(tally.latencies),
        errors=tally.errors,
        events=tally.events,
        seconds=seconds,
        p50_ms=latencies.median * 1000,
        p99_ms=latencies.p99 * 1000,
        cpu_seconds=cpu_seconds,
        total_responses=tally.responses,
    )


def _event_loop_runner() -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def measure(job: LoadJob) -> LoadResult:
    """Run ``job`` in a fresh load-generator process and return what it measured."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench._loadgen"],
        input=json.dumps(asdict(job)),
        capture_output=True,
        text=True,
        timeout=job.warmup + job.duration + 60,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed: {completed.stderr.strip()[-2000:]}")
    return LoadResult(**json.loads(completed.stdout))


def main() -> int:
    job = LoadJob(**json.loads(sys.stdin.read()))
    if job.cpu is not None:
        os.sched_setaffinity(0, {job.cpu})
    result = _event_loop_runner()(_run(job))
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
