"""The one path every API request takes: read the body, journal it, match the fault rules, run the handler and
deliver its reply.

Routes are plain async handlers ``(Call) -> Reply``; :class:`Endpoint` adapts one to ASGI. Faults, latency,
rate limits, the journal and the live counters all hook in here, in one place, never in the handlers.

An exchange that can wait (a hang, a reset or an empty reply, a delay, a cut, any stream) is delivered beside a
listener that waits for the client to go away (uvicorn's ``receive`` returns ``http.disconnect``); whichever ends
first cancels the other, so it stops as soon as the client leaves and the journal notes when that was noticed. A
reply that is sent at once, in one piece, has nothing to stop: it goes out directly, without the listener task
(a task group, a task and its cancellation cost more than the rest of such a request).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import anyio
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ..azure.replies import azure_reply
from ..azure.routing import azure_target
from ..faults.answers import SERVER_ERROR_MESSAGE
from ..faults.engine import RequestFacts, Selection
from ..faults.header import FAULT_HEADER, parse_fault_header
from ..faults.rate_limits import RateDecision, RateLimiter
from ..faults.request_cost import estimate_tokens
from ..faults.rules import Action, HangAction, RuleError
from ..state.journal import Outcome
from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, error_body
from ..wire.json_codec import JSONDecodeError, loads
from ..wire.replies import BytesReply, JSONReply, LiveStreamReply, Reply, StreamReply
from .bookkeeping import Tally
from .delivery import AT_ONCE, Shaping, Wire, deliver
from .fault_actions import answer_early, is_connection_fault, perform_connection_fault, reshape, shaping_for

__all__ = ["AtOnceHandler", "Call", "Endpoint", "Handler"]

_logger = logging.getLogger("mockserver")

#: the journal's ``rule_id`` for a 429 from the configured rate limits
RATE_LIMITS_RULE_ID = "rate_limits"


class Call:
    """One request as a handler sees it: its body (parsed, and as received), the server's state, and the request
    as Starlette's ``Request``."""

    __slots__ = ("_receive", "_request", "_scope", "body", "raw", "state")

    def __init__(
        self, request: Request | Scope, body: Any, state: ServerState, raw: bytes = b"", receive: Receive | None = None
    ) -> None:
        """``request``: the request, or its scope (with ``receive``, its body's source), from which the
        ``Request`` is made when first asked for (most handlers read only the body)."""
        self._request: Request | None
        self._scope: Scope
        if type(request) is dict:  # a scope (a Request is a mapping, not a dict)
            self._request, self._scope = None, request
        else:
            self._request = cast(Request, request)
            self._scope = self._request.scope
        self._receive = receive
        #: the parsed JSON body (``None`` for requests without a JSON body)
        self.body = body
        self.state = state
        #: the body's bytes as received
        self.raw = raw

    @property
    def request(self) -> Request:
        if self._request is None:
            self._request = Request(self._scope) if self._receive is None else Request(self._scope, self._receive)
        return self._request

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    def json_object(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise APIErrorResponse(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                "valid JSON.)",
                code=None,
            )
        return self.body


Handler = Callable[[Call], Awaitable[Reply]]
#: the handler's reply when it can be made at once, on the event loop, and is not a stream; ``None`` (having done
#: nothing) otherwise
AtOnceHandler = Callable[[Call], Reply | None]


class Endpoint:
    """An ASGI app around one handler."""

    def __init__(
        self,
        handler: Handler,
        *,
        json_body: bool = True,
        real_answers: bool = False,
        at_once: AtOnceHandler | None = None,
    ) -> None:
        self.handler = handler
        self.json_body = json_body
        #: the handler answers with what a real API said (relayed or replayed): nothing is added to it for Azure
        self.real_answers = real_answers
        #: the handler's at-once side, for the at-once lane (:mod:`.at_once`)
        self.at_once = at_once

    def reply_at_once(self, scope: Scope, raw: bytes, state: ServerState) -> Reply | None:
        """The reply :meth:`serve` would deliver at once for the request in ``scope`` with body ``raw``, when no
        rule, fault, delay, rate limit or shared state applies (the lane checks that) and the handler answers it
        at once without a stream; ``None``, with nothing done, when :meth:`serve` must take it."""
        if self.at_once is None or _containers(raw) > state.config.max_body_containers:
            return None
        parsed = _lenient_json(raw)
        if isinstance(parsed, dict) and parsed.get("stream") is True:
            return None
        try:
            return self.at_once(self._call(scope, None, raw, state, parsed))
        except Exception as exc:
            return _failure_reply(exc, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.serve(scope, receive, send, send)

    async def serve(self, scope: Scope, receive: Receive, send: Send, events_send: Send) -> None:
        """Answer the request; ``events_send`` takes a stream's events once ``send`` has started the response (the
        same ``send``, or the one under a wrapper that only adds to the response's start)."""
        state: ServerState = scope["app"].state.mock
        request_id = scope.get("state", {}).get("request_id") or state.ids.request_id()
        tally = Tally(scope, request_id, state.journal, state.stats)
        wire = Wire(
            scope,
            tally.recording(send),
            tally.record,
            state.journal,
            state.stopping,
            tally.recording_events(events_send),
        )
        try:
            await self._exchange(wire, receive, state, tally)
        except BaseException:
            # cancelled from outside (the server shutting down) or a failure while sending
            hang = tally.record.action == "hang"
            state.journal.decide(tally.record, Outcome.HANG_ABANDONED if hang else Outcome.SERVER_CUT)
            raise
        finally:
            tally.finish()

    async def _exchange(self, wire: Wire, receive: Receive, state: ServerState, tally: Tally) -> None:
        record, journal = wire.record, wire.journal
        try:
            raw = await _read_body(wire.scope, receive, state.config.max_body_bytes)
        except APIErrorResponse as exc:
            await deliver(JSONReply(exc.body(), exc.status, exc.headers), wire)
            return
        journal.keep_body(record, raw)
        if _containers(raw) > state.config.max_body_containers:
            limit = state.config.max_body_containers
            message = f"Request body too large: it holds more than {limit} JSON objects and arrays."
            await deliver(
                JSONReply(error_body(message, type="invalid_request_error", code="request_too_large"), 413), wire
            )
            return
        azure = azure_target(wire.scope)
        deployment = azure.deployment if azure is not None else None
        facts = RequestFacts(record.method, record.path, tally.headers, _lenient_json(raw), deployment)
        with journal.lock:
            record.stream = facts.stream
        try:
            selection = _select(facts, state) if state.shared is None else await _select_shared(facts, state)
        except RuleError as exc:
            await deliver(JSONReply(error_body(str(exc), type="invalid_request_error", param=FAULT_HEADER), 400), wire)
            return
        except APIErrorResponse as exc:  # the shared state is away
            await deliver(JSONReply(exc.body(), exc.status, exc.headers), wire)
            return
        action = selection.action if selection is not None else None
        if selection is not None:
            with journal.lock:
                record.rule_id, record.action = selection.rule_id, selection.action.type
        if action is not None and is_connection_fault(action):
            async with _listening(receive, wire, action):
                await perform_connection_fault(action, wire)
            return
        reply = await self._reply(wire, raw, receive, state, facts, action)
        if azure is not None:
            reply = azure_reply(azure, record.path, reply, content_filters=not self.real_answers)
        if action is None and state.config.latency is None:
            shaping = AT_ONCE  # what shaping_for gives then, without making it (nor drawing from the RNG)
        else:
            shaping = shaping_for(action, state.config.latency, state.latency_rng)
            if _status(reply) >= 400:  # stream faults shape successful replies only; delays apply to all
                shaping = Shaping(ttft=shaping.ttft)
        if isinstance(reply, StreamReply | LiveStreamReply):
            tally.stream_opened()
        elif shaping.ttft <= 0 and shaping.cut_after is None:
            await deliver(reply, wire, shaping)  # sent at once: nothing to stop when the client leaves
            return
        async with _listening(receive, wire, action):
            await deliver(reply, wire, shaping)

    async def _reply(
        self, wire: Wire, raw: bytes, receive: Receive, state: ServerState, facts: RequestFacts, action: Action | None
    ) -> Reply:
        reply = answer_early(action, facts.model)
        if reply is not None:
            return reply
        limiter = state.rate_limiter
        if limiter is None:  # the estimate is only for the rate limits
            return reshape(action, await self.run_handler(wire.scope, raw, receive, state, facts.body))
        estimate = estimate_tokens(facts.body)
        if state.shared is None:
            refusal = _rate_limited(wire, limiter, facts.model, estimate)
        else:
            refusal = await _rate_limited_shared(wire, state, facts.model, estimate)
        if refusal is not None:
            return refusal
        handled = reshape(action, await self.run_handler(wire.scope, raw, receive, state, facts.body))
        if not isinstance(handled, BytesReply):
            if state.shared is None or state.shared.rate_limits is None:
                limiter.record(handled.tokens, estimate)
            else:
                await state.shared.rate_limits.record(handled.tokens, estimate)
        return handled

    async def run_handler(
        self, scope: Scope, raw: bytes, receive: Receive, state: ServerState, parsed: Any = None
    ) -> Reply:
        """The handler's reply to the request in ``scope`` with body ``raw`` (an error reply when it fails);
        ``parsed`` is the body already parsed (``None``: not yet, or not JSON), so a large body is parsed once."""
        try:
            return await self.handler(self._call(scope, _replay(raw, receive), raw, state, parsed))
        except Exception as exc:
            return _failure_reply(exc, scope)

    def _call(self, scope: Scope, receive: Receive | None, raw: bytes, state: ServerState, parsed: Any) -> Call:
        body = (parsed if parsed is not None else _parse_json(raw, scope["method"])) if self.json_body else None
        return Call(scope, body, state, raw, receive)


def _failure_reply(exc: Exception, scope: Scope) -> Reply:
    """The reply to a request whose handler failed with ``exc``: its error, or a logged 500."""
    if isinstance(exc, APIErrorResponse):
        return JSONReply(exc.body(), exc.status, exc.headers)
    _logger.error("handler failed: %s %s", scope["method"], scope["path"], exc_info=exc)
    return JSONReply(error_body(SERVER_ERROR_MESSAGE, type="server_error"), 500)


def _containers(raw: bytes) -> int:
    """At most how many JSON objects and arrays ``raw`` holds (brackets in strings count too), counted in C."""
    return raw.count(b"{") + raw.count(b"[")


def _rate_limited(wire: Wire, limiter: RateLimiter, model: str | None, estimate: int) -> Reply | None:
    """A 429 when the request does not fit the configured rate limits (it uses them up otherwise)."""
    return _refusal(wire, limiter.check(estimate, model=model or "gpt-4o"))


async def _rate_limited_shared(wire: Wire, state: ServerState, model: str | None, estimate: int) -> Reply | None:
    """:func:`_rate_limited` against the buckets all workers share (a 503 when they cannot be reached)."""
    assert state.shared is not None
    assert state.shared.rate_limits is not None
    try:
        decision = await state.shared.rate_limits.check(estimate, model=model or "gpt-4o")
    except APIErrorResponse as exc:
        return JSONReply(exc.body(), exc.status, exc.headers)
    return _refusal(wire, decision)


def _refusal(wire: Wire, decision: RateDecision) -> Reply | None:
    """The 429 of a decision that refused the request, noted in its journal record; ``None`` when allowed."""
    if decision.allowed:
        return None
    with wire.journal.lock:
        wire.record.rule_id, wire.record.action = RATE_LIMITS_RULE_ID, "rate_limit"
    error = decision.error()
    return JSONReply(error.body(), error.status, error.headers)


def _status(reply: Reply) -> int:
    return 200 if isinstance(reply, StreamReply) else reply.status


def _select(facts: RequestFacts, state: ServerState) -> Selection | None:
    """An ``X-Mock-Fault`` header first, then the first rule that fires."""
    header = facts.headers.get(FAULT_HEADER)
    if header is not None:
        return Selection("header", parse_fault_header(header))
    return state.rules.select(facts)


async def _select_shared(facts: RequestFacts, state: ServerState) -> Selection | None:
    """:func:`_select` with the rules all workers share."""
    header = facts.headers.get(FAULT_HEADER)
    if header is not None:
        return Selection("header", parse_fault_header(header))
    assert state.shared is not None
    return await state.shared.select(facts)


@contextlib.asynccontextmanager
async def _listening(receive: Receive, wire: Wire, action: Action | None) -> AsyncIterator[None]:
    """Runs the body beside the disconnect listener; whichever ends first cancels the other."""
    async with anyio.create_task_group() as group:
        group.start_soon(_listen_for_disconnect, receive, wire, action, group.cancel_scope)
        yield
        group.cancel_scope.cancel()


async def _listen_for_disconnect(receive: Receive, wire: Wire, action: Action | None, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    outcome = Outcome.HANG_ABANDONED if isinstance(action, HangAction) else Outcome.CLIENT_DISCONNECTED
    wire.journal.client_gone(wire.record, outcome)
    scope.cancel()


def _lenient_json(raw: bytes) -> Any:
    """The body for matching and the journal: parsed JSON, or ``None`` when it is not JSON."""
    if not raw:
        return None
    try:
        return loads(raw)
    except JSONDecodeError:
        return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(limit: int) -> APIErrorResponse:
    return APIErrorResponse(413, f"Request body too large: the limit is {limit} bytes.", code="request_too_large")


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body out once, then defers to the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay


def _parse_json(raw: bytes, method: str) -> Any:
    if method in ("GET", "DELETE", "HEAD") and not raw:
        return None
    if not raw:
        raise APIErrorResponse(
            400,
            "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, "
            "but the request body was empty.",
        )
    try:
        return loads(raw)
    except JSONDecodeError:
        raise APIErrorResponse(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
            "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
            "help center at help.openai.com.)",
        ) from None
