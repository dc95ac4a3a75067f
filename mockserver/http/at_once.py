"""The at-once lane: an API request whose reply goes out at once is answered in the connection's own callback.

Most requests a fake serves have nothing to wait for: no rule or fault header applies, no delay, no rate limit,
no shared state, and the handler makes one body on the event loop. For such a request uvicorn's request cycle (a
task per request, the body and the reply passed as ASGI messages through the app) costs more than the answer
itself. So the httptools edge protocol (:mod:`.edge`) holds the cycle back when a request's head arrives and this
lane :meth:`~AtOnceLane.takes` it; once the body is in, :meth:`~AtOnceLane.answer` makes the response the app would
make - the same :class:`~.dispatch.Endpoint` (its ``reply_at_once``), the same OpenAI headers
(:class:`~.middleware.OpenAIHeaders`), the same journal entry in one step (``Journal.answered``) - and the protocol
writes it and ends the cycle as uvicorn's ``send`` would (default headers, keep-alive or close, the next request).

Whatever it does not take goes through the app as before: a request declined at its head is started at once, one
whose body comes in parts is started when the first part does (the app reads the rest as it comes), and one
declined once its body is in (a stream, a large generation, a rule added meanwhile) is started with its body
read, nothing changed but the request id the lane drew (which the app then uses).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from starlette.types import Scope

from ..faults.answers import SERVER_ERROR_MESSAGE
from ..faults.header import FAULT_HEADER
from ..state.journal import Outcome
from ..state.server_state import ServerState
from ..wire.errors import error_body
from ..wire.replies import BytesReply, JSONReply
from .delivery import at_once_response
from .dispatch import Endpoint
from .hot_routes import HotRoutes
from .middleware import OpenAIHeaders, key_problem

__all__ = ["LARGEST_BODY", "AtOnceLane", "AtOnceResponse"]

_logger = logging.getLogger("mockserver")

#: the largest body the lane waits for (uvicorn stops reading a connection past this much unread body)
LARGEST_BODY = 64 * 1024

#: the replies an at-once handler gives: one body
_ONE_BODY = (JSONReply, BytesReply)
#: what the lane looks for in a request's head: its body's length, its key, and what it never takes
_LENGTH, _KEY, _DECLINED = range(3)
_WATCHED = {
    b"content-length": _LENGTH,
    b"authorization": _KEY,
    FAULT_HEADER.encode("latin-1"): _DECLINED,
    b"transfer-encoding": _DECLINED,
}


# a msgspec struct rather than a dataclass: one is made for every request the lane answers, several times faster;
# not tracked by the garbage collector (what it refers to never refers back to it)
class AtOnceResponse(msgspec.Struct, frozen=True, gc=False):
    """What the protocol writes: the status, the headers (content type and length, the OpenAI headers) and the
    whole body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class AtOnceLane:
    """Answers the at-once requests of one app (``app`` goes into the scope, as the app would put itself)."""

    def __init__(self, app: Any, routes: HotRoutes, state: ServerState) -> None:
        self._app = app
        self._routes = routes
        self._state = state

    def takes(self, scope: Scope) -> Endpoint | None:
        """The endpoint that is to answer here the request whose head is in ``scope``, once its body is in; ``None``
        when the lane does not take it. It takes a request to a hot route with an at-once handler, with an
        accepted key, no fault header and a body of a known length the lane waits for, on a server with nothing
        that could delay or change the answer."""
        endpoint = self._routes.endpoint(scope)
        if endpoint is None or endpoint.at_once is None or not self._plain():
            return None
        length = authorization = None
        watched = _WATCHED.get
        for name, value in scope["headers"]:
            kind = watched(name)
            if kind is None:
                continue
            if kind == _LENGTH:
                length = value  # the last, as uvicorn reads it
            elif kind == _KEY:
                if authorization is None:  # the first, as the app reads it
                    authorization = value
            else:
                return None
        if length is None or not length.isdigit():
            return None
        size, config = int(length), self._state.config
        if size > LARGEST_BODY or size > config.max_body_bytes or key_problem(authorization, config.api_key):
            return None
        return endpoint

    def _plain(self) -> bool:
        """No recording, shared state, rate limits, latency or rules: nothing would wait or reshape a reply."""
        state = self._state
        return (
            state.recording is None
            and state.shared is None
            and state.rate_limiter is None
            and state.config.latency is None
            and not state.rules.in_force
        )

    def answer(self, scope: Scope, body: bytes, endpoint: Endpoint) -> AtOnceResponse | None:
        """The response of ``endpoint`` (which :meth:`takes` gave) to the request taken at its head, now that its
        whole ``body`` is in, with the request journaled and counted as the app would (settled before the response
        goes out); ``None``, with nothing done, when the app must answer it. A failure is logged and answered 500,
        as the app answers one."""
        if not self._plain():  # a rule may have been added while the body came in
            return None
        state = self._state
        scope["app"] = self._app
        headers = OpenAIHeaders(scope, state)
        received_at = state.journal.now()
        reply = endpoint.reply_at_once(scope, body, state)
        if reply is None:
            return None
        try:
            assert isinstance(reply, _ONE_BODY), "an at-once handler answers with one body"
            response_headers, content = at_once_response(reply)
            if reply.headers or isinstance(reply, BytesReply):  # values the handler chose (the rest are ours)
                _check_headers(response_headers)
        except Exception:  # the app journals such a failure as a cut, then answers 500
            _logger.exception("answering at once failed: %s %s", scope["method"], scope["path"])
            self._journal(scope, body, None, 0, received_at, Outcome.SERVER_CUT)
            reply = JSONReply(error_body(SERVER_ERROR_MESSAGE, type="server_error"), 500)
            response_headers, content = at_once_response(reply)
        else:
            self._journal(scope, body, reply.status, len(content), received_at, Outcome.COMPLETED)
        return AtOnceResponse(reply.status, headers.added(response_headers), content)

    def _journal(
        self, scope: Scope, body: bytes, status: int | None, sent: int, received_at: float, outcome: Outcome
    ) -> None:
        state = self._state
        state.journal.answered(
            request_id=scope["state"]["request_id"],
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1") if scope["query_string"] else "",
            headers=scope["headers"],
            body=body,
            status=status,
            bytes_sent=sent,
            received_at=received_at,
            outcome=outcome,
        )
        state.stats.request_served()


#: what uvicorn refuses to send in a header's name and in its value
_UNSAFE_NAME = re.compile(rb'[\x00-\x1f\x7f()<>@,;:\[\]={} \t\\"]')
_UNSAFE_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _check_headers(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse a header that would break the response's head, as uvicorn refuses to send one."""
    for name, value in headers:
        if _UNSAFE_NAME.search(name) or _UNSAFE_VALUE.search(value):
            raise RuntimeError(f"Invalid HTTP header: {name!r}")
