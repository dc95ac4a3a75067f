"""Turning what callers pass as ``timeout=`` into the transport's :class:`Timeout`."""

from __future__ import annotations

from typing import Protocol, TypeAlias, runtime_checkable

from ._transport import Timeout

__all__ = ["DEFAULT_TIMEOUT", "NO_TIMEOUT", "PhaseTimeouts", "TimeoutLike", "coerce_timeout"]

#: the official SDK's default: 600 s for each phase, 5 s to connect
DEFAULT_TIMEOUT = Timeout(600.0, connect=5.0)


@runtime_checkable
class PhaseTimeouts(Protocol):
    """Anything with per-phase timeouts, such as ``httpx.Timeout``."""

    @property
    def connect(self) -> float | None: ...

    @property
    def read(self) -> float | None: ...

    @property
    def write(self) -> float | None: ...

    @property
    def pool(self) -> float | None: ...


TimeoutLike: TypeAlias = float | Timeout | PhaseTimeouts | None


#: ``timeout=None``: every phase waits forever
NO_TIMEOUT = Timeout(None)


def coerce_timeout(value: TimeoutLike) -> Timeout:
    """A number applies to every phase (as in httpx); ``None`` waits forever."""
    if value is None:
        return NO_TIMEOUT
    if isinstance(value, Timeout):
        return value
    if isinstance(value, int | float):
        seconds = float(value)
        return Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)
    if isinstance(value, PhaseTimeouts):
        return Timeout(connect=value.connect, read=value.read, write=value.write, pool=value.pool)
    raise TypeError(f"timeout must be a number, a Timeout or None, not {type(value).__name__}")
