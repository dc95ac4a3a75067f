"""``/v1/chat/completions``: create (JSON or an SSE stream), and the stored-completion routes.

The request is checked (:mod:`._chat_request`), every choice is generated up front (:mod:`._chat_reply`; off the
event loop when it is large, bounded by the output limit), and only then shaped as one body or as chunks (encoded
as they are sent), so a streamed reply says exactly what the non-streamed one would.

Every request is answered afresh: a memo of checked requests and generated choices per body paid only on traffic
that repeats one body, which users' traffic does not (``python -m bench server`` measures distinct bodies).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ..content.generation import Generation
from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..wire.json_codec import Encoded
from ..wire.replies import JSONReply, Reply, StreamReply
from ..wire.sse import DONE
from ._chat_common_request import common_chat_request
from ._chat_reply import ChatReply, generate_choices, plan_reply
from ._chat_request import ChatRequest, parse_chat_request
from ._chat_store import store_reply, stored_routes
from ._generation_fields import system_fingerprint
from ._offload import HEAVY_TOKENS, off_the_loop

__all__ = ["create_chat_completion", "create_chat_completion_at_once", "routes"]


async def create_chat_completion(call: Call) -> Reply:
    """``POST /v1/chat/completions``."""
    request = _checked_request(call)
    return _answer(call.state, request, await _generate(call.state, request))


def create_chat_completion_at_once(call: Call) -> Reply | None:
    """:func:`create_chat_completion` when its reply is one body made on the event loop; ``None`` (having done
    nothing) for a stream or a generation heavy enough to go off the loop."""
    state = call.state
    request = _checked_request(call)
    if request.stream or expected_tokens(state, request) > HEAVY_TOKENS:
        return None
    reply = _planned(state, request, generate_choices(state, request))
    # encoded here: nothing reshapes a reply the at-once lane sends (no rule or fault applies to it)
    return JSONReply(Encoded(reply.encoded_body()), tokens=reply.total_tokens)


def _checked_request(call: Call) -> ChatRequest:
    body = call.json_object()
    return common_chat_request(body, call.state) or parse_chat_request(body, call.state)


def _answer(state: ServerState, request: ChatRequest, generations: tuple[Generation, ...]) -> Reply:
    reply = _planned(state, request, generations)
    if request.stream:
        return StreamReply(reply.chunk_events(), (DONE,), tokens=reply.total_tokens, frames=reply.chunk_frames())
    return JSONReply(reply.body(), tokens=reply.total_tokens)


def _planned(state: ServerState, request: ChatRequest, generations: tuple[Generation, ...]) -> ChatReply:
    """The reply to ``request`` with these choices, stored when the request asks for that."""
    reply = plan_reply(state, request, generations, system_fingerprint(state, request.model))
    if request.store:
        store_reply(state, reply)
    return reply


def routes() -> list[BaseRoute]:
    endpoint = Endpoint(create_chat_completion, at_once=create_chat_completion_at_once)
    return [Route("/v1/chat/completions", endpoint, methods=["POST"]), *stored_routes()]


def expected_tokens(state: ServerState, request: ChatRequest) -> int:
    """At most how many tokens generating ``request``'s choices makes (a bound, to choose where it runs)."""
    limit = request.max_tokens
    if limit is None:
        limit = request.output_limit or HEAVY_TOKENS + 1
    if (not request.tools or request.tool_choice == "none") and request.json_schema is None:
        # text: generated text is at most the configured longest reply (the prompt echoed: the limit bounds it)
        config = state.config
        if config.mode != "echo":
            longest = config.max_reply_tokens
            if longest < limit:
                limit = longest
    return limit * request.n


async def _generate(state: ServerState, request: ChatRequest) -> tuple[Generation, ...]:
    """The choices' generations; in a worker thread when they could hold the event loop (many choices, a schema
    or tools, a long limit: :mod:`._offload`)."""
    if expected_tokens(state, request) <= HEAVY_TOKENS:
        return generate_choices(state, request)
    return await off_the_loop(
        lambda should_stop: generate_choices(state, request, should_stop=should_stop), state.stopping
    )
