"""Cancellation: cancelling the task that makes a streamed call, at any point (before the headers, after k events,
while the caller awaits something else inside ``async with stream``), ends it promptly; the server sees the client
go (journal outcome ``client_disconnected``, no open stream, nothing in flight) while the client is still open, so
no connection is left behind; no task is left running.

"Promptly" is counted in event-loop time, not wall time. A correct client ends a cancelled call within a few turns
of the loop (and a socket close); on a loaded machine the loop's thread waits for a CPU between those turns, so the
wall time from ``cancel()`` to the end can pass any fixed bound without the client doing anything wrong (the official
SDK once failed the 1 s wall bound that way). So a :class:`LoopClock` runs beside the check: a task ticking every
:data:`TICK` seconds on the same loop, slowed by exactly what slows the client's own callbacks. A call still running
once the clock has counted :data:`PROMPT_SECONDS` of loop time is late (a client waiting on a timer, a drain or a
peer lets the clock run); a wall-time ceiling (:data:`GIVE_UP_SECONDS`) still ends a check that hangs outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from mockserver import CannedReply, JournalEntry

from .._property import Env, GivenProperty, Violation
from .._schedules import CHAT_PATH, scenario_text
from .._session import CHAT_MESSAGES, CHAT_MODEL, open_session, settle
from .._strategies import CancelCase, cancel_cases

__all__ = ["CANCELLATION", "GIVE_UP_SECONDS", "PROMPT_SECONDS", "TICK", "LoopClock", "loop_clock"]

#: a cancelled call must be over within this much event-loop time (see :class:`LoopClock`)
PROMPT_SECONDS = 1.0
#: the loop clock's tick
TICK = 0.01
#: wall seconds after which a check stops waiting, however slow the machine (only a hang gets here)
GIVE_UP_SECONDS = 30.0
#: a stream long enough never to finish on its own during a check (events x inter-event delay = 10 s)
_STREAM_EVENTS = 1000
_EVENT_GAP = 0.01
_HEADERS_DELAY = 30.0


class LoopClock:
    """Seconds of event-loop time: ticks of :data:`TICK` counted by a task on the loop. The load that delays the
    client's callbacks delays the ticks alike, so a bound in loop time holds on a busy machine; a client that waits
    (a timer, a drain, a peer) leaves the loop free and the clock runs on."""

    def __init__(self) -> None:
        self.ticks = 0
        self.task: asyncio.Task[None] | None = None

    @property
    def seconds(self) -> float:
        return self.ticks * TICK

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.ticks += 1

    async def wait_until(self, done: Callable[[], bool], budget: float) -> tuple[float, float]:
        """Poll until ``done()`` holds, ``budget`` seconds of loop time have passed, or :data:`GIVE_UP_SECONDS` of
        wall time; returns the loop time and the wall time waited."""
        loop_started, wall_started = self.seconds, time.monotonic()
        while not done() and self.seconds - loop_started < budget:
            if time.monotonic() - wall_started > GIVE_UP_SECONDS:
                break
            await asyncio.sleep(TICK / 2)
        return self.seconds - loop_started, time.monotonic() - wall_started


@contextlib.asynccontextmanager
async def loop_clock() -> AsyncIterator[LoopClock]:
    clock = LoopClock()
    clock.task = asyncio.create_task(clock.run())
    try:
        yield clock
    finally:
        clock.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await clock.task


def _rule(case: CancelCase) -> dict[str, Any]:
    latency = {"ttft": _HEADERS_DELAY} if case.after_events is None else {"itl": _EVENT_GAP}
    return {"match": {"path": CHAT_PATH, "stream": True}, "action": {"type": "latency", **latency}}


def _replay(case: CancelCase) -> str:
    request = {"model": CHAT_MODEL, "messages": list(CHAT_MESSAGES), "stream": True}
    where = "before the headers" if case.after_events is None else f"after {case.after_events} events"
    if case.in_body:
        where += ", while the caller awaits something else"
    return scenario_text([_rule(case)], replies=[{"pieces": ["x"] * _STREAM_EVENTS}], request=request) + (
        f"# cancel the call {where}\n"
    )


async def check_cancellation(env: Env, case: CancelCase) -> None:
    async with open_session(env, max_retries=0, fresh=True) as session:
        server = session.server
        server.queue_replies(CannedReply(pieces=("x",) * _STREAM_EVENTS))
        server.add_rules(_rule(case))
        current = asyncio.current_task()
        before = asyncio.all_tasks()
        reached = asyncio.Event()

        async def consume() -> None:
            stream = await session.client.chat.completions.create(**session.chat_request(), stream=True)
            if case.in_body:  # the documented way to hold a stream across other awaits
                async with stream:
                    await iterate(stream)
            else:
                await iterate(stream)

        async def iterate(stream: Any) -> None:
            seen = 0
            if case.after_events == 0:
                await parked()
            async for _ in stream:
                seen += 1
                if seen == case.after_events:
                    await parked()

        async def parked() -> None:
            reached.set()
            if case.in_body:  # busy in the caller's own code until cancelled
                await asyncio.Event().wait()

        task = asyncio.create_task(consume())
        if case.after_events is None:
            await settle(server, lambda journal, stats: bool(stats.get("in_flight")), what="the request")
        else:
            waiter = asyncio.create_task(reached.wait())
            done, _ = await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task in done:
                raise Violation(f"the stream ended before it was cancelled: {task.exception()!r}")
        async with loop_clock() as clock:
            task.cancel()
            loop_time, wall_time = await clock.wait_until(task.done, PROMPT_SECONDS)
            if not task.done():
                raise Violation(
                    f"the cancelled call was still running after {loop_time:.2f} s of event-loop time "
                    f"({wall_time:.2f} s wall)"
                )
            if not task.cancelled():
                raise Violation(f"the cancelled call ended with {task.exception()!r} instead of CancelledError")

            def disconnected(journal: list[JournalEntry], stats: dict[str, int]) -> bool:
                calls = [entry for entry in journal if entry.path == CHAT_PATH]
                over = bool(calls) and calls[-1].outcome == "client_disconnected"
                return over and stats.get("open_streams") == 0 and stats.get("in_flight") == 0

            await settle(server, disconnected, what="the disconnect of the cancelled call (with the client still open)")
            ignored = {current, clock.task}

            def left_running() -> list[asyncio.Task[Any]]:
                return [t for t in asyncio.all_tasks() - before if t not in ignored and not t.done()]

            await clock.wait_until(lambda: not left_running(), PROMPT_SECONDS)
            if left := left_running():
                raise Violation(f"tasks left running after the cancelled call: {left!r}")


CANCELLATION = (
    GivenProperty(
        name="cancellation.prompt_and_clean",
        summary="a cancelled call ends promptly, the server sees the disconnect, no connection or task leaks",
        strategy=cancel_cases(),
        check=check_cancellation,
        replay=_replay,
        examples=6,
    ),
)
