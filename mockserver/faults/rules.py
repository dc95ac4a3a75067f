"""The rule model: what to match, what to do, how often. One JSON shape for scenario files, the control API and
the Python API::

    {"match": {"path": "/v1/chat/completions", "method": "POST", "model": "gpt-4o", "stream": true},
     "action": {"type": "status", "status": 429, "retry_after_ms": 20}, "times": 2, "probability": 1.0}

Every match key is optional (absent = any). ``times`` absent = forever. Rules are plain frozen values; the
:mod:`engine <mockserver.faults.engine>` keeps them in order and counts their uses.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .latency import LatencySpec

__all__ = [
    "LONGEST_RETRY_AFTER",
    "Action",
    "DisconnectAction",
    "EmptyAction",
    "HangAction",
    "LatencyAction",
    "MalformedAction",
    "Match",
    "PassAction",
    "RateLimitAction",
    "ResetAction",
    "Rule",
    "RuleError",
    "StatusAction",
    "StreamErrorAction",
    "TruncateAction",
    "describe_errors",
    "error_rate_rules",
    "parse_action",
    "parse_rules",
]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: the longest wait a rule may ask a client for (a day): finite, and within what headers and sleeps can carry
LONGEST_RETRY_AFTER = 86_400.0
#: seconds to retry after: finite, 0..a day
_RetrySeconds = Annotated[float, Field(ge=0, le=LONGEST_RETRY_AFTER, allow_inf_nan=False)]
_RetryMilliseconds = Annotated[float, Field(ge=0, le=LONGEST_RETRY_AFTER * 1000, allow_inf_nan=False)]
#: what an HTTP header name may be (RFC 9110 token characters)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: what a header value a rule sends may be: visible ASCII, spaces and tabs (no CR, LF or non-ASCII)
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


def _sendable_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers a reply can carry as they are: names are tokens, values printable ASCII on one line."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP header name")
        if not _HEADER_VALUE.match(value):
            raise ValueError(
                f"header {name!r}: the value {value!r} cannot be sent (only printable ASCII, no line breaks)"
            )
    return headers


class Match(_Value):
    """Which requests a rule applies to; each absent key matches anything. ``path`` may use ``*`` globs."""

    path: str | None = None
    method: str | None = None
    model: str | None = None
    stream: bool | None = None
    #: header name (any case) -> exact value
    header: dict[str, str] | None = None

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value is not None else None

    @field_validator("header")
    @classmethod
    def _lower_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return {name.lower(): text for name, text in value.items()} if value is not None else None


class StatusAction(_Value):
    """Answer ``status`` with OpenAI's error body for it."""

    type: Literal["status"] = "status"
    status: int = Field(ge=400, le=599)
    #: seconds, sent as ``retry-after`` (at most a day)
    retry_after: _RetrySeconds | None = None
    #: milliseconds, sent as ``retry-after-ms``
    retry_after_ms: _RetryMilliseconds | None = None
    #: sent as ``x-should-retry: true|false``
    should_retry: bool | None = None
    headers: Annotated[dict[str, str], AfterValidator(_sendable_headers)] = Field(default_factory=dict)
    message: str | None = None
    code: str | None = None


class RateLimitAction(_Value):
    """A realistic 429: ``requests``/``tokens`` (rate_limit_exceeded) or ``quota`` (insufficient_quota, not to
    be retried)."""

    type: Literal["rate_limit"] = "rate_limit"
    kind: Literal["requests", "tokens", "quota"] = "requests"
    #: seconds until the client may try again (sent as retry-after and retry-after-ms; at most a day)
    retry_after: _RetrySeconds = 1.0


class LatencyAction(_Value):
    """Delay the reply: ``ttft`` before the first byte, ``itl`` between stream events (seconds, fixed or a
    distribution). A non-stream reply waits ``ttft`` in all."""

    type: Literal["latency"] = "latency"
    ttft: LatencySpec | None = None
    itl: LatencySpec | None = None


class HangAction(_Value):
    """Read the request and never answer, until the client goes away or the server stops."""

    type: Literal["hang"] = "hang"


class ResetAction(_Value):
    """Abort the connection with a TCP reset before any response byte."""

    type: Literal["reset"] = "reset"


class EmptyAction(_Value):
    """Close the connection without sending a byte."""

    type: Literal["empty"] = "empty"


class DisconnectAction(_Value):
    """Cut the connection after ``after_events`` stream events (a non-stream reply: after half its body)."""

    type: Literal["disconnect"] = "disconnect"
    after_events: int = Field(default=0, ge=0)


class TruncateAction(_Value):
    """End a stream cleanly but without its terminal event (``[DONE]`` / ``response.completed``); a non-stream
    reply: half its body, cleanly ended."""

    type: Literal["truncate"] = "truncate"


class MalformedAction(_Value):
    """A stream event whose data is not JSON (after ``after_events`` good ones), or a non-JSON body with a JSON
    content type."""

    type: Literal["malformed"] = "malformed"
    after_events: int = Field(default=1, ge=0)


class StreamErrorAction(_Value):
    """An event carrying ``{"error": {...}}`` after ``after_events`` events, then the end of the stream (a
    non-stream reply: a 500 with that error)."""

    type: Literal["stream_error"] = "stream_error"
    after_events: int = Field(default=1, ge=0)
    message: str = "The server had an error while processing your request. Sorry about that!"
    code: str | None = None
    error_type: str = "server_error"


class PassAction(_Value):
    """Serve the real reply (a step in a sequence of outcomes: ``"ok"``)."""

    type: Literal["pass"] = "pass"


Action = Annotated[
    StatusAction
    | RateLimitAction
    | LatencyAction
    | HangAction
    | ResetAction
    | EmptyAction
    | DisconnectAction
    | TruncateAction
    | MalformedAction
    | StreamErrorAction
    | PassAction,
    Field(discriminator="type"),
]


class Rule(_Value):
    match: Match = Match()
    action: Action
    #: how many requests the rule applies to; absent = forever
    times: int | None = Field(default=None, ge=1)
    #: the chance that a matching request gets the action (drawn from the seeded RNG)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    #: a name for the rule; the engine assigns ``rule_<n>`` when absent
    id: str | None = Field(default=None, min_length=1)


class RuleError(ValueError):
    """A rule (or list of rules) that cannot be used; the message names the bad field."""


_RULES: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])
_ACTION: TypeAdapter[Action] = TypeAdapter(Action)


def error_rate_rules(rate: float) -> tuple[Rule, ...]:
    """Random failures for ``--error-rate``: a 500 or a 503 (equally likely), ``rate`` of the requests in all."""
    if rate <= 0:
        return ()
    half = rate / 2
    return (
        Rule(action=StatusAction(status=500), probability=half, id="error_rate_500"),
        # drawn only when the first did not fire: half / (1 - half) of the rest makes half of the whole
        Rule(action=StatusAction(status=503), probability=min(1.0, half / (1 - half)), id="error_rate_503"),
    )


def describe_errors(exc: ValidationError, *, prefix: str = "", offset: int = 0) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if offset and loc and isinstance(loc[0], int):
            loc[0] += offset
        where = ".".join(str(part) for part in (prefix, *loc) if part != "") or "(top level)"
        problems.append(f"{where}: {err['msg']}")
    return "; ".join(problems)


def parse_rules(data: Any, *, where: str = "rules", offset: int = 0) -> tuple[Rule, ...]:
    """One rule (a mapping) or a list of them, validated as a whole: all or nothing. ``offset``: where the list
    starts in a longer one (validated a slice at a time), for the positions errors name."""
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RuleError(f"{where}: expected a rule object or a list of rules, got {type(data).__name__}")
    try:
        return tuple(_RULES.validate_python(items))
    except ValidationError as exc:
        raise RuleError(describe_errors(exc, prefix=where, offset=offset)) from None


def parse_action(data: Any, *, where: str = "action") -> Action:
    try:
        return _ACTION.validate_python(data)
    except ValidationError as exc:
        raise RuleError(describe_errors(exc, prefix=where)) from None
