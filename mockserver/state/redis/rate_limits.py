"""The rate-limit buckets on Redis: one script call per request refills both buckets to Redis' clock and takes a
request and the token estimate when they fit, atomically across every worker and host.

The 429's body and headers are made by today's :class:`~mockserver.faults.rate_limits.RateLimiter`, set to the
levels the script saw (the same arithmetic in the same doubles gives the same decision). That local copy then
stays as a view for the ``x-ratelimit-*`` headers of other replies (refilled by the local clock until the next
call updates it).
"""

from __future__ import annotations

import logging
import time

from ...faults.rate_limits import RateDecision, RateLimiter, RateLimits
from . import scripts
from .connection import LoopClients, RedisLocation, StateUnavailable, unavailable

#: what a script argument may be
_Arg = str | int | float | bytes

__all__ = ["SharedRateLimits"]

_logger = logging.getLogger("mockserver")


class _HeldClock:
    """``time.monotonic``, or one fixed instant while a decision is replayed on the local copy."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: float | None = None

    def __call__(self) -> float:
        return self.held if self.held is not None else time.monotonic()


class SharedRateLimits:
    def __init__(self, location: RedisLocation, clients: LoopClients, limits: RateLimits) -> None:
        self._key = location.key("rate_limits")
        self._clients = clients
        self._script = clients.template.register_script(scripts.RATE_LIMIT)
        self.limits = limits
        self._clock = _HeldClock()
        #: the local view (its levels as the last call left them)
        self.view = RateLimiter(limits, clock=self._clock)

    def _args(self, mode: str, estimate: int, actual: int = 0) -> list[_Arg]:
        return [self.limits.rpm or 0, self.limits.tpm or 0, mode, estimate, actual]

    async def check(self, estimated_tokens: int, *, model: str) -> RateDecision:
        """``RateLimiter.check`` against the shared buckets; raises the 503 when Redis is away."""
        if estimated_tokens < 0:
            raise ValueError(f"estimated_tokens must be >= 0, got {estimated_tokens}")
        try:
            client = await self._clients.current()
            args = self._args("check", estimated_tokens)
            allowed, requests, tokens = await self._script(keys=[self._key], args=args, client=client)
        except StateUnavailable:
            raise unavailable() from None
        self._clock.held = time.monotonic()
        try:
            self.view.set_levels(_level(requests), _level(tokens))
            decision = self.view.check(estimated_tokens, model=model)
        finally:
            self._clock.held = None
        if decision.allowed != bool(allowed):  # pragma: no cover - the two agree by construction
            _logger.warning("shared rate limits: the local replay disagreed with Redis (%s)", bool(allowed))
        return decision

    async def record(self, actual_tokens: int, estimated_tokens: int) -> None:
        """``RateLimiter.record`` against the shared buckets (lost, with a warning, when Redis is away)."""
        if self.limits.tpm is None or actual_tokens == estimated_tokens:
            return
        try:
            args = self._args("record", estimated_tokens, actual_tokens)
            await self._script(keys=[self._key], args=args, client=await self._clients.current())
        except StateUnavailable:
            _logger.warning("shared rate limits: a token count could not be recorded (Redis is away)")
            return
        self.view.record(actual_tokens, estimated_tokens)


def _level(value: bytes | str) -> float | None:
    text = value.decode() if isinstance(value, bytes) else value
    return float(text) if text else None
