"""Fault schedules: what the server answers to each attempt of one call, turned into fault rules, into a scenario
file that ``mockserver serve --scenario`` replays, and into what the SDK's retry policy says must happen.

The policy (the official SDK's, see the behaviour reference): a server-directed delay (``retry-after-ms``, then
``retry-after``) above 120 s means no retry; ``x-should-retry`` is obeyed next; then 408, 409, 429 and 5xx are
retried. A directed delay in (0, 120] s is waited; otherwise exponential backoff. Connection failures are retried
with backoff. ``max_retries`` bounds the retries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

__all__ = [
    "BACKOFF_BOUNDS",
    "CHAT_PATH",
    "Expected",
    "Step",
    "expected_outcome",
    "scenario_text",
    "schedule_rules",
]

CHAT_PATH = "/v1/chat/completions"
MAX_RETRY_AFTER = 120.0
#: (lowest, highest) backoff before retry n (0-based) when the server directs no delay: 0.5 * 2**n, minus jitter
BACKOFF_BOUNDS = tuple((min(0.5 * 2**n, 8.0) * 0.75, min(0.5 * 2**n, 8.0)) for n in range(12))

StepKind = Literal["status", "quota", "reset", "empty", "ok"]


@dataclass(frozen=True, slots=True)
class Step:
    """The server's answer to one attempt."""

    kind: StepKind
    status: int | None = None
    #: sent as ``retry-after-ms``
    retry_after_ms: float | None = None
    #: seconds, sent as ``retry-after``
    retry_after: float | None = None
    should_retry: bool | None = None

    def action(self) -> dict[str, Any]:
        """The fault rule action (its JSON shape)."""
        if self.kind == "ok":
            return {"type": "pass"}
        if self.kind in ("reset", "empty"):
            return {"type": self.kind}
        if self.kind == "quota":
            return {"type": "rate_limit", "kind": "quota"}
        action: dict[str, Any] = {"type": "status", "status": self.status}
        for name in ("retry_after_ms", "retry_after", "should_retry"):
            value = getattr(self, name)
            if value is not None:
                action[name] = value
        return action

    def directed_delay(self) -> float | None:
        """The delay the server asks for, in seconds, as the SDK reads it (ms first)."""
        if self.retry_after_ms is not None:
            return self.retry_after_ms / 1000
        return self.retry_after

    def is_retried(self) -> bool:
        """Whether the policy retries this answer (when retries are left)."""
        if self.kind == "ok":
            return False
        if self.kind in ("reset", "empty"):
            return True
        if self.kind == "quota":
            return False  # the fake sends x-should-retry: false with quota errors
        delay = self.directed_delay()
        if delay is not None and math.isfinite(delay) and delay > MAX_RETRY_AFTER:
            return False
        if self.should_retry is not None:
            return self.should_retry
        assert self.status is not None
        return self.status in (408, 409, 429) or self.status >= 500

    def wait_bounds(self, retries_taken: int) -> tuple[float, float]:
        """The (lowest, highest) wait before the next attempt after this answer."""
        delay = self.directed_delay()
        if delay is not None and 0 < delay <= MAX_RETRY_AFTER:
            return delay, delay
        return BACKOFF_BOUNDS[min(retries_taken, len(BACKOFF_BOUNDS) - 1)]


@dataclass(frozen=True, slots=True)
class Expected:
    """What the policy says happens to one call answered by a schedule."""

    attempts: int
    #: ``None``: the call succeeds; ``"connection"``: APIConnectionError (or a subclass); else the final status
    failure: int | Literal["connection"] | None
    #: (lowest, highest) wait before each retry
    waits: tuple[tuple[float, float], ...]


def expected_outcome(steps: Sequence[Step], max_retries: int) -> Expected:
    """Walk the schedule as the policy does; after the last step the server answers normally."""
    waits: list[tuple[float, float]] = []
    for index, step in enumerate((*steps, Step("ok"))):
        attempts = index + 1
        if step.kind == "ok":
            return Expected(attempts, None, tuple(waits))
        if index < max_retries and step.is_retried():
            waits.append(step.wait_bounds(index))
            continue
        failure: int | Literal["connection"] = "connection" if step.kind in ("reset", "empty") else 429
        if step.kind == "status":
            assert step.status is not None
            failure = step.status
        return Expected(attempts, failure, tuple(waits))
    raise AssertionError("unreachable: the schedule ends with ok")


def schedule_rules(steps: Sequence[Step], *, path: str = CHAT_PATH) -> list[dict[str, Any]]:
    """One rule per step, each used once, in order: the n-th matching request gets the n-th answer."""
    return [
        {"match": {"path": path, "method": "POST"}, "action": step.action(), "times": 1, "id": f"attempt_{index + 1}"}
        for index, step in enumerate(steps)
    ]


def scenario_text(
    rules: Sequence[dict[str, Any]], *, replies: Sequence[Any] = (), request: dict[str, Any] | None = None
) -> str:
    """A scenario file (YAML) that replays ``rules`` and canned ``replies`` with ``mockserver serve --scenario``;
    the request the property sent is written as a comment."""
    scenario: dict[str, Any] = {"rules": list(rules)}
    if replies:
        scenario["replies"] = list(replies)
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=120)
    header = "# replay: mockserver serve --scenario <this file>\n"
    if request is not None:
        header += f"# request: {json.dumps(request, ensure_ascii=False)}\n"
    return header + text
