"""The route that answers every ``/v1`` request from recordings or the upstream, when the config asks for it.

It comes first in the app's routes and takes a request only while ``config.recording`` is set (otherwise the
generated routes answer, at the cost of one attribute look-up). Its handler runs inside the dispatcher like any
other, so fault rules, latency, rate limits and the journal apply to recorded and relayed answers exactly as to
generated ones.
"""

from __future__ import annotations

import ssl
import time

import anyio
import httpx
from starlette.routing import Match, Route
from starlette.types import Scope

from ..http.dispatch import Call, Endpoint
from ..wire.errors import error_body
from ..wire.replies import JSONReply, Reply
from .cassette import Interaction
from .matching import IncomingRequest, Miss
from .proxy import Recorder, forward
from .replay import replayed_reply
from .session import RecordingSession

__all__ = ["RecordingRoute"]

#: the ``code`` of the error a request no recording matches gets
NO_RECORDING_CODE = "no_recorded_match"


class RecordingRoute(Route):
    """``/v1/...``, any method: a recorded answer, the upstream's, or (by configuration) the generated one."""

    def __init__(self) -> None:
        endpoint = Endpoint(self.answer, json_body=False, real_answers=True)
        super().__init__("/v1/{path:path}", endpoint, include_in_schema=False)
        self._ssl_context: ssl.SSLContext | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["app"].state.mock.recording is not None:
            return super().matches(scope)
        return Match.NONE, {}

    def ssl_context(self) -> ssl.SSLContext:
        """One TLS context for every upstream request (making one costs milliseconds)."""
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    async def answer(self, call: Call) -> Reply:
        started = time.perf_counter()
        session: RecordingSession | None = call.state.recording
        if session is None:  # the config changed while the request was on its way
            return await _generated(call)
        settings = session.settings
        scope = call.request.scope
        incoming = IncomingRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]},
            raw=call.raw,
        )
        miss: Miss | None = None
        if len(session.pool) or settings.unmatched != "upstream":
            found = session.take(incoming)
            if not isinstance(found, Miss):
                return await replayed_reply(found.interaction, settings.replay_speed, call.state.stopping, started)
            miss = found
        if settings.unmatched == "upstream" and settings.upstream is not None:
            recorder = _recorder(session) if settings.record_to is not None else None
            return await forward(incoming, settings, self.ssl_context(), recorder, started)
        if settings.unmatched == "generate":
            return await _generated(call)
        message = miss.message if miss is not None else "No recorded request matches."
        return JSONReply(error_body(message, type="invalid_request_error", code=NO_RECORDING_CODE), 400)


def _recorder(session: RecordingSession) -> Recorder:
    async def record(interaction: Interaction) -> None:
        await anyio.to_thread.run_sync(session.record, interaction)

    return record


async def _generated(call: Call) -> Reply:
    """The answer of the generated route for this request (what the server gives without recordings)."""
    scope = call.request.scope
    for route in scope["app"].router.routes:
        if isinstance(route, RecordingRoute) or not isinstance(route, Route):
            continue
        matched, child = route.matches(scope)
        if matched is Match.FULL and isinstance(route.app, Endpoint):
            route_scope = {**scope, **child}
            return await route.app.run_handler(route_scope, call.raw, call.request.receive, call.state)
    message = f"Invalid URL ({scope['method']} {scope['path']})"
    return JSONReply(error_body(message, type="invalid_request_error"), 404)
