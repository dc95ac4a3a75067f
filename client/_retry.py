"""The retry policy, as pure functions of the response headers and the attempt number.

Follows the official SDK: ``retry-after-ms`` then ``retry-after`` (seconds or an HTTP date) direct the delay when
0 < delay <= 120 s; a server-directed delay above 120 s means "do not retry"; ``x-should-retry`` is obeyed next;
then 408, 409, 429 and 5xx are retried. Otherwise the delay is exponential backoff with up to 25 % jitter.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER_DELAY",
    "MAX_RETRY_DELAY",
    "RetryTiming",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER_DELAY = 120.0

_RETRIED_STATUSES = frozenset({408, 409, 429})
_INFINITY_LITERALS = frozenset({"inf", "+inf", "infinity", "+infinity"})


@dataclass(frozen=True, slots=True)
class RetryTiming:
    """Where the retry loop gets its time from: swap these for virtual time in tests."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = field(default=random.random)
    #: seconds since the epoch, to turn a ``Retry-After`` HTTP date into a delay
    now: Callable[[], float] = field(default=time.time)


def parse_retry_after(headers: Mapping[str, str] | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asks us to wait, or ``None`` when it does not say (or says it unreadably)."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        if delay == math.inf and value.strip().lower() not in _INFINITY_LITERALS:
            # a number too large for a float: an excessive delay, not a malformed value
            return MAX_RETRY_AFTER_DELAY + 1
        return delay / divisor
    date = headers.get("retry-after")
    if date is None:
        return None
    try:
        parsed = email.utils.parsedate_tz(date)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return float(when - now())


def should_retry(status_code: int, headers: Mapping[str, str], now: Callable[[], float] = time.time) -> bool:
    """Whether a response with this status and these headers is worth another attempt."""
    retry_after = parse_retry_after(headers, now)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > MAX_RETRY_AFTER_DELAY:
        return False
    directive = headers.get("x-should-retry")
    if directive == "true":
        return True
    if directive == "false":
        return False
    return status_code in _RETRIED_STATUSES or status_code >= 500


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None,
    *,
    random: Callable[[], float] = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """Seconds to wait before retry number ``retries_taken + 1``."""
    retry_after = parse_retry_after(headers, now)
    if retry_after is not None and math.isfinite(retry_after) and 0 < retry_after <= MAX_RETRY_AFTER_DELAY:
        return retry_after
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    return max(backoff * (1 - 0.25 * random()), 0.0)
