"""Cancellation: cancelling the task that makes a streamed call, at any point (before the headers, after k events,
while the caller awaits something else inside ``async with stream``), ends it promptly; the server sees the client
go (journal outcome ``client_disconnected``, no open stream, nothing in flight) while the client is still open, so
no connection is left behind; no task is left running."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mockserver import CannedReply, JournalEntry

from .._property import Env, GivenProperty, Violation
from .._schedules import CHAT_PATH, scenario_text
from .._session import CHAT_MESSAGES, CHAT_MODEL, open_session, settle
from .._strategies import CancelCase, cancel_cases

__all__ = ["CANCELLATION"]

#: a cancelled call must be over within this long
PROMPT_SECONDS = 1.0
#: a stream long enough never to finish on its own during a check (events x inter-event delay = 10 s)
_STREAM_EVENTS = 1000
_EVENT_GAP = 0.01
_HEADERS_DELAY = 30.0


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
        started = time.monotonic()
        task.cancel()
        await asyncio.wait({task}, timeout=PROMPT_SECONDS * 5)
        took = time.monotonic() - started
        if not task.done():
            raise Violation(f"the cancelled call was still running {took:.2f} s later")
        if not task.cancelled():
            raise Violation(f"the cancelled call ended with {task.exception()!r} instead of CancelledError")
        if took > PROMPT_SECONDS:
            raise Violation(f"the cancelled call took {took:.2f} s to end")

        def disconnected(journal: list[JournalEntry], stats: dict[str, int]) -> bool:
            calls = [entry for entry in journal if entry.path == CHAT_PATH]
            over = bool(calls) and calls[-1].outcome == "client_disconnected"
            return over and stats.get("open_streams") == 0 and stats.get("in_flight") == 0

        await settle(server, disconnected, what="the disconnect of the cancelled call (with the client still open)")
        deadline = time.monotonic() + PROMPT_SECONDS
        while left := [t for t in asyncio.all_tasks() - before if t is not current and not t.done()]:
            if time.monotonic() > deadline:
                raise Violation(f"tasks left running after the cancelled call: {left!r}")
            await asyncio.sleep(0.005)


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
