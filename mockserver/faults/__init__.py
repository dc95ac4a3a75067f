"""Outcomes for scripting the fake, as values: ``server.on(path=...).sequence([fail(429), fail(500), "ok"])``.

Each function returns an action of the :mod:`rule model <mockserver.faults.rules>`; give them to
``RuleBuilder.sequence`` or ``RuleBuilder.then``, or put them in a rule's ``action``.
"""

from __future__ import annotations

from typing import Any

from .rules import (
    DisconnectAction,
    EmptyAction,
    HangAction,
    LatencyAction,
    MalformedAction,
    PassAction,
    RateLimitAction,
    ResetAction,
    StatusAction,
    StreamErrorAction,
    TruncateAction,
)

__all__ = [
    "OK",
    "disconnect",
    "empty",
    "fail",
    "hang",
    "latency",
    "malformed",
    "passthrough",
    "rate_limit",
    "reset",
    "stream_error",
    "truncate",
]

#: in a sequence: let one request through to the real handler
OK = "ok"


def fail(
    status: int,
    *,
    retry_after: float | None = None,
    retry_after_ms: float | None = None,
    should_retry: bool | None = None,
    headers: dict[str, str] | None = None,
    message: str | None = None,
    code: str | None = None,
) -> StatusAction:
    """Answer ``status`` with OpenAI's error body (``message``/``code`` override its text)."""
    return StatusAction(
        status=status,
        retry_after=retry_after,
        retry_after_ms=retry_after_ms,
        should_retry=should_retry,
        headers=headers or {},
        message=message,
        code=code,
    )


def rate_limit(kind: str = "requests", *, retry_after: float = 1.0) -> RateLimitAction:
    """A realistic 429; ``kind`` is ``"requests"``, ``"tokens"`` or ``"quota"`` (not to be retried)."""
    return RateLimitAction.model_validate({"kind": kind, "retry_after": retry_after})


def latency(ttft: Any = None, itl: Any = None) -> LatencyAction:
    """Delays in seconds: a number, or a distribution such as ``{"dist": "uniform", "low": .01, "high": .03}``."""
    return LatencyAction.model_validate({"ttft": ttft, "itl": itl})


def hang() -> HangAction:
    return HangAction()


def reset() -> ResetAction:
    return ResetAction()


def empty() -> EmptyAction:
    return EmptyAction()


def disconnect(after_events: int = 0) -> DisconnectAction:
    return DisconnectAction(after_events=after_events)


def truncate() -> TruncateAction:
    return TruncateAction()


def malformed(after_events: int = 1) -> MalformedAction:
    return MalformedAction(after_events=after_events)


def stream_error(after_events: int = 1, *, message: str | None = None, code: str | None = None) -> StreamErrorAction:
    fields: dict[str, Any] = {"after_events": after_events, "code": code}
    if message is not None:
        fields["message"] = message
    return StreamErrorAction.model_validate(fields)


def passthrough() -> PassAction:
    """The real reply (same as ``"ok"`` in a sequence)."""
    return PassAction()
