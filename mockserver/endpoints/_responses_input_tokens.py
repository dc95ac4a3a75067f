"""``POST /v1/responses/input_tokens``: how many input tokens a Responses request would cost, without running it.

The count is the one ``POST /v1/responses`` puts in ``usage.input_tokens`` for the same request (earlier turns of
``previous_response_id`` included). ``model`` and ``input`` may be left out here.
"""

from __future__ import annotations

from ..http.dispatch import Call
from ..wire.errors import APIErrorResponse
from ..wire.replies import JSONReply
from ._responses_conversation import earlier_turns, id_maker
from ._responses_input import normalise_input
from ._responses_request import parse_request
from ._responses_transcript import transcript_tokens

__all__ = ["count_input_tokens"]

#: the parameters of the count call (the SDK's ``InputTokenCountParams``)
COUNT_PARAMETERS = frozenset(
    {
        "conversation", "input", "instructions", "model", "parallel_tool_calls", "personality",
        "previous_response_id", "reasoning", "text", "tool_choice", "tools", "truncation",
    }
)  # fmt: skip


async def count_input_tokens(call: Call) -> JSONReply:
    state = call.state
    body = call.json_object()
    for name in body:
        if name not in COUNT_PARAMETERS:
            raise APIErrorResponse(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    as_create = {name: value for name, value in body.items() if name != "personality"}
    as_create.setdefault("input", [])
    if body.get("model") is None and state.config.models:
        as_create["model"] = state.config.models[0]
    request = parse_request(as_create, state.config)
    earlier = earlier_turns(state, request.previous_response_id)
    items = normalise_input(request.input, id_maker(state))
    tokens = transcript_tokens([*earlier, *items], request.instructions)
    return JSONReply({"object": "response.input_tokens", "input_tokens": tokens})
