"""OpenAI-style rate limits: requests-per-minute and tokens-per-minute buckets that refill continuously.

Each configured limit is a bucket holding up to ``limit`` units that refills at ``limit / 60`` units per second
(OpenAI's docs describe the same model: 60 RPM is one request a second, not 60 at the top of each minute). A
bucket starts full. Consequences worth knowing:

- A burst of ``limit`` is allowed at once; over any window of ``w`` seconds at most ``limit * (1 + w / 60)``
  units are allowed (the bucket's content plus its refill), never more.
- A rejected request consumes nothing, so ``retry_after`` is exact: asking again ``retry_after`` seconds later
  (with nothing else in between) is allowed. (OpenAI says unsuccessful requests count against the limit; we
  diverge so that a client which honours ``retry-after`` is never punished for it.)
- :meth:`RateLimiter.record` corrects the token estimate once the real count is known; a reply bigger than its
  estimate can push the token bucket below zero (a debt that later requests wait out, as OpenAI does). The
  ``remaining`` headers never go below 0.
- A request estimated at more tokens than the whole TPM limit can never fit. OpenAI answers it with a 429
  ``rate_limit_exceeded`` of type ``tokens`` saying "Request too large ...", and no retry-after; so do we
  (``retry_after`` is ``math.inf``). The official SDK still retries it with its own backoff, and fails.

Durations in headers and messages are rounded up to a whole millisecond (waiting that long is always enough)
and written like Go's ``time.Duration`` (``"20ms"``, ``"18.642s"``, ``"6m0s"``), as OpenAI writes them;
``retry-after`` is whole seconds rounded up, ``retry-after-ms`` whole milliseconds.

Not thread-safe: a limiter belongs to one event loop (the server's), where checks never interleave.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..wire.errors import APIErrorResponse

__all__ = ["RateDecision", "RateLimiter", "RateLimits", "go_duration", "go_duration_ns"]

LimitKind = Literal["requests", "tokens"]

#: how far below the requested amount a bucket may be and still count as enough, relative to its capacity;
#: absorbs float rounding so that asking again exactly ``retry_after`` later fits
_SLACK = 1e-9
_NS_PER_SECOND = 1_000_000_000


class RateLimits(BaseModel):
    """The limits of one model (or one scope): ``rpm`` requests and ``tpm`` tokens per minute; ``None`` = no
    limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rpm: int | None = Field(default=None, gt=0, le=10**12)
    tpm: int | None = Field(default=None, gt=0, le=10**15)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """What :meth:`RateLimiter.check` decided. ``headers`` go on the reply whether it was allowed or not."""

    allowed: bool
    #: which limit refused the request; ``None`` when allowed
    kind: LimitKind | None = None
    #: seconds until the request would fit (0 when allowed, ``math.inf`` when it never can)
    retry_after: float = 0.0
    #: OpenAI's error message; empty when allowed
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict, hash=False)

    def error(self) -> APIErrorResponse:
        """The 429 to answer a refused request with."""
        if self.allowed or self.kind is None:
            raise ValueError("an allowed request has no error")
        return APIErrorResponse(429, self.message, type=self.kind, code="rate_limit_exceeded", headers=self.headers)


class _Bucket:
    """``capacity`` units refilling at ``capacity / 60`` per second; ``level`` may go negative (a debt)."""

    def __init__(self, capacity: int, now: float) -> None:
        self.capacity = capacity
        self.rate = capacity / 60.0
        self.level = float(capacity)
        self.updated = now
        self.slack = _SLACK * capacity

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(float(self.capacity), self.level + (now - self.updated) * self.rate)
            self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` units are available (0 if they are now)."""
        deficit = amount - self.level
        return 0.0 if deficit <= self.slack else deficit / self.rate

    def until_full(self) -> float:
        missing = self.capacity - self.level
        return 0.0 if missing <= self.slack else missing / self.rate

    def remaining(self) -> int:
        return max(0, min(self.capacity, math.floor(self.level + self.slack)))


class RateLimiter:
    """Request and token buckets for :class:`RateLimits`, read against an injectable ``clock`` (seconds)."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        organization: str = "org-mock",
    ) -> None:
        self.limits = limits
        self.organization = organization
        self._clock = clock
        now = clock()
        self._requests = _Bucket(limits.rpm, now) if limits.rpm is not None else None
        self._tokens = _Bucket(limits.tpm, now) if limits.tpm is not None else None

    def check(self, estimated_tokens: int, *, model: str) -> RateDecision:
        """Admit one request of ``estimated_tokens`` for ``model`` (named in the message), consuming a request
        and the estimate when allowed; a refused request consumes nothing."""
        if estimated_tokens < 0:
            raise ValueError(f"estimated_tokens must be >= 0, got {estimated_tokens}")
        self._refill()
        tokens = self._tokens
        if tokens is not None and estimated_tokens > tokens.capacity:
            message = (
                f"Request too large for {model} in organization {self.organization} on tokens per min (TPM): "
                f"Limit {tokens.capacity}, Requested {estimated_tokens}. "
                "The input or output tokens must be reduced in order to run successfully."
            )
            return RateDecision(False, "tokens", math.inf, message, self._limit_headers())
        waits: dict[LimitKind, float] = {}
        if self._requests is not None:
            waits["requests"] = self._requests.wait_for(1)
        if tokens is not None:
            waits["tokens"] = tokens.wait_for(estimated_tokens)
        kind = max(waits, key=waits.__getitem__, default=None)
        if kind is None or waits[kind] == 0.0:
            if self._requests is not None:
                self._requests.level -= 1
            if tokens is not None:
                tokens.level -= estimated_tokens
            return RateDecision(True, headers=self._limit_headers())
        if kind == "requests" and self._requests is not None:
            return self._refusal(kind, self._requests, waits[kind], 1, model)
        assert tokens is not None
        return self._refusal(kind, tokens, waits[kind], estimated_tokens, model)

    def record(self, actual_tokens: int, estimated_tokens: int) -> None:
        """Charge the difference once a reply's real token count is known (a refund when it was smaller)."""
        if self._tokens is None:
            return
        self._refill()
        bucket = self._tokens
        bucket.level = min(float(bucket.capacity), bucket.level - (actual_tokens - estimated_tokens))

    def set_levels(self, requests: float | None, tokens: float | None) -> None:
        """Set the buckets' contents as of now (a shared store's view of them, see :mod:`mockserver.state.redis`)."""
        now = self._clock()
        for bucket, level in ((self._requests, requests), (self._tokens, tokens)):
            if bucket is not None and level is not None:
                bucket.level, bucket.updated = level, now

    def headers(self) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers for the configured limits, as of now."""
        self._refill()
        return self._limit_headers()

    def _refill(self) -> None:
        now = self._clock()
        for bucket in (self._requests, self._tokens):
            if bucket is not None:
                bucket.refill(now)

    def _refusal(self, kind: LimitKind, bucket: _Bucket, wait: float, requested: int, model: str) -> RateDecision:
        unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
        message = (
            f"Rate limit reached for {model} in organization {self.organization} on {unit}: "
            f"Limit {bucket.capacity}, Used {bucket.capacity - bucket.remaining()}, Requested {requested}. "
            f"Please try again in {go_duration(_ceil_ms(wait))}."
        )
        headers = {
            "retry-after": str(math.ceil(_ceil_ms(wait))),
            "retry-after-ms": str(round(_ceil_ms(wait) * 1000)),
            **self._limit_headers(),
        }
        return RateDecision(False, kind, wait, message, headers)

    def _limit_headers(self) -> dict[str, str]:
        named = (("requests", self._requests), ("tokens", self._tokens))
        present = [(name, bucket) for name, bucket in named if bucket is not None]
        headers: dict[str, str] = {}
        for name, bucket in present:
            headers[f"x-ratelimit-limit-{name}"] = str(bucket.capacity)
        for name, bucket in present:
            headers[f"x-ratelimit-remaining-{name}"] = str(bucket.remaining())
        for name, bucket in present:
            headers[f"x-ratelimit-reset-{name}"] = go_duration(_ceil_ms(bucket.until_full()))
        return headers


def _ceil_ms(seconds: float) -> float:
    """``seconds`` rounded up to a whole millisecond (after dropping float noise below a nanosecond)."""
    return math.ceil(round(seconds * 1000, 6)) / 1000


def go_duration(seconds: float) -> str:
    """``seconds`` formatted like Go's ``time.Duration.String()``: ``"0s"``, ``"12ms"``, ``"1.5s"``,
    ``"6m0s"``, ``"1h2m3s"``, ``"500µs"``, ``"7ns"`` (rounded to the nanosecond)."""
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite, got {seconds}")
    return go_duration_ns(round(seconds * _NS_PER_SECOND))


def go_duration_ns(nanoseconds: int) -> str:
    """A whole number of nanoseconds formatted like Go's ``time.Duration.String()``."""
    sign, amount = ("-", -nanoseconds) if nanoseconds < 0 else ("", nanoseconds)
    if amount == 0:
        return "0s"
    if amount < 1_000:
        return f"{sign}{amount}ns"
    if amount < 1_000_000:
        return f"{sign}{_decimal(amount, 3)}µs"
    if amount < _NS_PER_SECOND:
        return f"{sign}{_decimal(amount, 6)}ms"
    whole_seconds, fraction = divmod(amount, _NS_PER_SECOND)
    minutes, second = divmod(whole_seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{_decimal(second * _NS_PER_SECOND + fraction, 9)}s"
    if minutes:
        text = f"{minute}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _decimal(value: int, digits: int) -> str:
    """``value / 10**digits`` with trailing zeros (and a bare point) dropped: ``_decimal(1500, 3) == "1.5"``."""
    whole, fraction = divmod(value, 10**digits)
    decimals = f"{fraction:0{digits}d}".rstrip("0")
    return f"{whole}.{decimals}" if decimals else str(whole)
