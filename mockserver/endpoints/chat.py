"""``/v1/chat/completions``: create (JSON or an SSE stream), and the stored-completion routes.

The request is checked (:mod:`._chat_request`), every choice is generated up front (:mod:`._chat_reply`; off the
event loop when it is large, bounded by the output limit), and only then shaped as one body or as chunks (encoded
as they are sent), so a streamed reply says exactly what the non-streamed one would.
"""

from __future__ import annotations

import functools

from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..wire.replies import JSONReply, Reply, StreamReply
from ..wire.sse import DONE
from ._chat_plans import ChatPlans
from ._chat_reply import plan_reply
from ._chat_store import store_reply, stored_routes

__all__ = ["create_chat_completion", "routes"]


async def create_chat_completion(call: Call, plans: ChatPlans | None = None) -> Reply:
    """``POST /v1/chat/completions``; ``plans`` is the route's memo (a call without one answers afresh)."""
    memo = plans if plans is not None else ChatPlans()
    plan = await memo.plan(call.raw, call.json_object(), call.state)
    request = plan.request
    reply = plan_reply(call.state, request, plan.generations, plan.fingerprint)
    if request.store:
        store_reply(call.state, reply)
    if request.stream:
        return StreamReply(reply.chunk_events(plan.stream_deltas(reply.choices)), (DONE,), tokens=reply.total_tokens)
    return JSONReply(reply.body(), tokens=reply.total_tokens)


def routes() -> list[BaseRoute]:
    plans = ChatPlans()  # one memo per app, beside its route

    @functools.wraps(create_chat_completion)  # the OpenAPI description knows handlers by name
    async def create(call: Call) -> Reply:
        return await create_chat_completion(call, plans)

    return [
        Route("/v1/chat/completions", Endpoint(create), methods=["POST"]),
        *stored_routes(),
    ]
