"""Hypothesis strategies for the contract's inputs: fault schedules, stream contents and their chunking, tool
calls, page sizes and totals, cancellation points and timeouts. Server-directed delays are always a few
milliseconds (never the SDK's 0.5-8 s backoff), except where a property exists to check that backoff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hypothesis import strategies as st

from ._schedules import Step

__all__ = [
    "CancelCase",
    "PageCase",
    "RetryCase",
    "StreamCase",
    "StreamFaultCase",
    "TimeoutCase",
    "ToolCallSpec",
    "backoff_cases",
    "cancel_cases",
    "page_cases",
    "retry_cases",
    "stream_cases",
    "stream_fault_cases",
    "timeout_cases",
]

#: statuses the policy does not retry, and those it does
FINAL_STATUSES = (400, 401, 403, 404, 422)
RETRIED_STATUSES = (408, 409, 429, 500, 502, 503, 504)
#: text that stresses SSE framing and JSON escaping
_TRICKY = ("\n", "\r\n", "\r", "\n\n", "data: [DONE]\n\n", ": comment", "event: error", '{"error":1}', "\u2028", "\x00")


@dataclass(frozen=True, slots=True)
class RetryCase:
    max_retries: int
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class ToolCallSpec:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class StreamCase:
    #: the text's chunks, as streamed (empty when the reply is tool calls)
    pieces: tuple[str, ...]
    tool_calls: tuple[ToolCallSpec, ...]
    include_usage: bool
    max_tokens: int | None


@dataclass(frozen=True, slots=True)
class StreamFaultCase:
    fault: Literal["disconnect", "truncate", "malformed", "stream_error"]
    pieces: tuple[str, ...]
    #: events sent before the fault
    after_events: int
    message: str


@dataclass(frozen=True, slots=True)
class CancelCase:
    #: ``None``: cancel while waiting for the response headers; else after this many events
    after_events: int | None
    #: cancel while the caller awaits something else of its own, holding the stream in ``async with``
    in_body: bool = False


@dataclass(frozen=True, slots=True)
class PageCase:
    total: int
    page_size: int
    #: stop iterating after this many items (``None``: iterate to the end)
    break_after: int | None


@dataclass(frozen=True, slots=True)
class TimeoutCase:
    max_retries: int
    timeout: float
    #: how many attempts hang (``None``: every one)
    hangs: int | None


def _milliseconds() -> st.SearchStrategy[float]:
    return st.integers(15, 45).map(float)


@st.composite
def _status_step(draw: st.DrawFn) -> Step:
    status = draw(st.sampled_from(FINAL_STATUSES) | st.sampled_from(RETRIED_STATUSES))
    should_retry = draw(st.sampled_from((None, None, None, True, False)))
    delay = draw(st.sampled_from(("ms", "ms", "seconds", "both", "too_long_ms", "too_long_seconds")))
    if delay == "ms":
        return Step("status", status, retry_after_ms=draw(_milliseconds()), should_retry=should_retry)
    if delay == "seconds":
        return Step("status", status, retry_after=draw(_milliseconds()) / 1000, should_retry=should_retry)
    if delay == "both":  # retry-after-ms wins over retry-after
        ms, seconds = draw(_milliseconds()), float(draw(st.integers(1, 3)))
        return Step("status", status, retry_after_ms=ms, retry_after=seconds, should_retry=should_retry)
    if delay == "too_long_ms":
        return Step(
            "status", status, retry_after_ms=float(draw(st.integers(120_001, 86_400_000))), should_retry=should_retry
        )
    return Step("status", status, retry_after=float(draw(st.integers(121, 86_400))), should_retry=should_retry)


@st.composite
def retry_cases(draw: st.DrawFn) -> RetryCase:
    """Any schedule of failures for up to every allowed attempt; a connection failure only where it cannot be
    retried (its retry would wait the real backoff)."""
    max_retries = draw(st.integers(0, 3))
    count = draw(st.integers(0, max_retries + 1))
    steps: list[Step] = []
    for index in range(count):
        options = [_status_step(), _status_step(), st.just(Step("quota"))]
        if index == max_retries:
            options.append(st.sampled_from((Step("reset"), Step("empty"))))
        steps.append(draw(st.one_of(options)))
    return RetryCase(max_retries, tuple(steps))


@st.composite
def backoff_cases(draw: st.DrawFn) -> RetryCase:
    """Retryable failures with no server-directed delay: the client must back off by itself."""
    status = draw(st.sampled_from((408, 429, 500, 503)))
    return RetryCase(2, (Step("status", status),) * draw(st.integers(1, 2)))


def _texts() -> st.SearchStrategy[str]:
    return st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=12), st.sampled_from(_TRICKY))


def _tool_calls() -> st.SearchStrategy[tuple[ToolCallSpec, ...]]:
    call = st.builds(
        ToolCallSpec,
        name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True),
        arguments=st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    )
    return st.lists(call, min_size=1, max_size=3).map(tuple)


@st.composite
def stream_cases(draw: st.DrawFn) -> StreamCase:
    if draw(st.booleans()):
        pieces = tuple(draw(st.lists(_texts(), max_size=25)))
        tool_calls: tuple[ToolCallSpec, ...] = ()
    else:
        pieces, tool_calls = (), draw(_tool_calls())
    max_tokens = draw(st.none() | st.integers(1, 30))
    return StreamCase(pieces, tool_calls, draw(st.booleans()), max_tokens)


def stream_fault_cases(
    fault: Literal["disconnect", "truncate", "malformed", "stream_error"],
) -> st.SearchStrategy[StreamFaultCase]:
    @st.composite
    def cases(draw: st.DrawFn) -> StreamFaultCase:
        pieces = tuple(draw(st.lists(_texts(), max_size=12)))
        # the role chunk, one per piece, the finish chunk
        events = len(pieces) + 2
        after = draw(st.integers(0, events)) if fault != "truncate" else events
        message = draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30))
        return StreamFaultCase(fault, pieces, after, message)

    return cases()


def cancel_cases() -> st.SearchStrategy[CancelCase]:
    return st.builds(CancelCase, after_events=st.none() | st.integers(0, 6), in_body=st.booleans())


@st.composite
def page_cases(draw: st.DrawFn) -> PageCase:
    total = draw(st.integers(0, 30))
    page_size = draw(st.integers(1, 12))
    break_after = draw(st.none() | st.integers(1, total)) if total else None
    return PageCase(total, page_size, break_after)


@st.composite
def timeout_cases(draw: st.DrawFn) -> TimeoutCase:
    max_retries = draw(st.integers(0, 2))
    hangs = draw(st.none() | st.integers(1, max_retries)) if max_retries else None
    return TimeoutCase(max_retries, draw(st.integers(50, 150).map(lambda ms: ms / 1000)), hangs)
