"""How each rule action is carried out: answered before the handler runs, done to the connection, or turned into
the :class:`~mockserver.http.delivery.Shaping` of the handler's reply.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio

from ..faults.answers import rate_limit_reply, status_reply, stream_error_reply
from ..faults.latency import LatencyProfile, sample
from ..faults.rules import (
    Action,
    DisconnectAction,
    EmptyAction,
    HangAction,
    LatencyAction,
    MalformedAction,
    RateLimitAction,
    ResetAction,
    StatusAction,
    StreamErrorAction,
    TruncateAction,
)
from ..state.journal import Outcome
from ..wire.replies import JSONReply, LiveStreamReply, Reply, StreamReply
from .connection import ConnectionFault, abort_connection, close_connection
from .delivery import Shaping, StreamError, Wire

__all__ = ["answer_early", "is_connection_fault", "perform_connection_fault", "reshape", "shaping_for"]


def answer_early(action: Action | None, model: str | None) -> JSONReply | None:
    """The reply for actions that answer instead of the handler (status, rate_limit)."""
    if isinstance(action, StatusAction):
        return status_reply(action)
    if isinstance(action, RateLimitAction):
        return rate_limit_reply(action, model)
    return None


def is_connection_fault(action: Action | None) -> bool:
    return isinstance(action, HangAction | ResetAction | EmptyAction)


async def perform_connection_fault(action: Action, wire: Wire) -> None:
    """Hang, reset or empty. Returns only by being cancelled (the client went away, or the server stopped)."""
    if isinstance(action, HangAction):
        await wire.stopping.wait()
        wire.journal.decide(wire.record, Outcome.HANG_ABANDONED)
        try:
            close_connection(wire.scope)
        except ConnectionFault:
            return
    else:
        wire.journal.decide(wire.record, Outcome.SERVER_CUT)
        if isinstance(action, ResetAction):
            abort_connection(wire.scope)
        else:
            close_connection(wire.scope)
    # the disconnect listener notices the closed connection and cancels this wait
    await anyio.sleep_forever()


def reshape(action: Action | None, reply: Reply) -> Reply:
    """A non-stream reply for a stream-only error action."""
    if isinstance(action, StreamErrorAction) and not isinstance(reply, StreamReply | LiveStreamReply):
        return stream_error_reply(action)
    return reply


def shaping_for(action: Action | None, profile: LatencyProfile | None, rng: random.Random) -> Shaping:
    """How to deliver the reply under ``action``, with ``profile`` (the server's default latency) unless the
    action is a latency rule of its own."""
    if isinstance(action, LatencyAction):
        profile = LatencyProfile(ttft=action.ttft, itl=action.itl)
    ttft = sample(profile.ttft, rng) if profile is not None and profile.ttft is not None else 0.0
    itl: Callable[[], float] | None = None
    if profile is not None and profile.itl is not None:
        spec = profile.itl

        def itl() -> float:
            return sample(spec, rng)

    if isinstance(action, DisconnectAction):
        return Shaping(ttft=ttft, itl=itl, cut_after=action.after_events)
    if isinstance(action, TruncateAction):
        return Shaping(ttft=ttft, itl=itl, drop_terminal=True)
    if isinstance(action, MalformedAction):
        return Shaping(ttft=ttft, itl=itl, malformed_after=action.after_events)
    if isinstance(action, StreamErrorAction):
        error = StreamError(action.message, action.error_type, action.code)
        return Shaping(ttft=ttft, itl=itl, error_after=action.after_events, error=error)
    return Shaping(ttft=ttft, itl=itl)
