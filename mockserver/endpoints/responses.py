"""The Responses API: ``POST /v1/responses`` (plain and streamed), and for stored responses
``GET /v1/responses/{id}``, ``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``; and
``POST /v1/responses/input_tokens``.

Content comes from the shared engine (:mod:`mockserver.content.generation`), keyed by the request without ``stream``,
so a streamed response carries exactly what the plain one would. ``store`` (on by default) keeps a record of
the response and its conversation (:mod:`._responses_conversation`), which ``previous_response_id`` continues.
A turn whose newest input item is a ``function_call_output`` is answered in text when ``tool_choice`` is
``auto``, as a model answers with the tool's result, so agent loops against the fake end.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ..content.generation import GenerationRequest, ToolSpec, generate
from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..state.store import ResourceStore
from ..wire.errors import APIErrorResponse
from ..wire.list_query import ListQuery
from ..wire.replies import JSONReply, StreamReply
from ._offload import HEAVY_TOKENS, off_the_loop
from ._responses_conversation import earlier_turns, id_maker, save_response, stored_response
from ._responses_input import Item, normalise_input
from ._responses_input_tokens import count_input_tokens
from ._responses_output import build_outcome
from ._responses_reasoning import reasoning_tokens
from ._responses_request import ResponsesRequest, parse_request
from ._responses_stream import stream_reply
from ._responses_transcript import mentions_json, prompt_text, transcript_tokens

__all__ = ["create_response", "delete_response", "list_input_items", "retrieve_response", "routes"]


async def create_response(call: Call) -> JSONReply | StreamReply:
    state = call.state
    request = parse_request(call.json_object(), state.config)
    new_id = id_maker(state)
    earlier = earlier_turns(state, request.previous_response_id)
    response_id = new_id("resp_")
    items = normalise_input(request.input, new_id)
    transcript = [*earlier, *items]
    if request.text["format"]["type"] == "json_object" and not mentions_json(transcript, request.instructions):
        raise APIErrorResponse(
            400,
            "Response input messages must contain the word 'json' in some form to use 'text.format' of type "
            "'json_object'.",
            param="input",
        )
    thinking = reasoning_tokens(request)
    wanted = _generation_request(request, transcript, thinking, state.config.output_token_limit(request.model))
    if _expected_tokens(state, wanted) <= HEAVY_TOKENS:
        generation = generate(state, wanted)
    else:
        generation = await off_the_loop(lambda should_stop: generate(state, wanted), state.stopping)
    outcome = build_outcome(
        request,
        generation,
        response_id=response_id,
        created_at=state.now(),
        completed_at=state.now(),
        input_tokens=transcript_tokens(transcript, request.instructions),
        new_id=new_id,
        reasoning_tokens=thinking,
    )
    if request.store:
        save_response(state, outcome.body(), items, [*transcript, *outcome.output])
    if request.stream:
        return stream_reply(outcome)
    return JSONReply(outcome.body(), tokens=outcome.total_tokens)


def _expected_tokens(state: ServerState, request: GenerationRequest) -> int:
    """At most how many tokens generating ``request`` makes (a bound, to choose where it runs)."""
    limit = request.limit if request.limit is not None else HEAVY_TOKENS + 1
    if (request.tools and request.tool_choice != "none") or request.json_schema is not None:
        return limit
    return limit if state.config.mode == "echo" else min(limit, state.config.max_reply_tokens)


def _generation_request(
    request: ResponsesRequest, transcript: list[Item], thinking: int, output_limit: int
) -> GenerationRequest:
    tool_choice = request.generation_tool_choice
    if tool_choice == "auto" and transcript and transcript[-1]["type"] == "function_call_output":
        tool_choice = "none"
    return GenerationRequest(
        prompt=prompt_text(transcript, request.instructions),
        key=request.key,
        max_tokens=None if request.max_output_tokens is None else request.max_output_tokens - thinking,
        tools=tuple(ToolSpec(tool["name"], tool["parameters"]) for tool in request.tools),
        tool_choice=tool_choice,
        json_schema=request.json_schema,
        # the model's limit covers its thinking too
        output_limit=max(output_limit - thinking, 0),
    )


async def retrieve_response(call: Call) -> JSONReply:
    return JSONReply(stored_response(call.state, call.path_params["response_id"])["response"])


async def delete_response(call: Call) -> JSONReply:
    response_id = call.path_params["response_id"]
    stored_response(call.state, response_id)
    call.state.responses.delete(response_id)
    return JSONReply({"id": response_id, "object": "response.deleted", "deleted": True})


async def list_input_items(call: Call) -> JSONReply:
    record = stored_response(call.state, call.path_params["response_id"])
    query = ListQuery.parse(call.request.query_params, default_limit=20, max_limit=100, default_order="desc")
    items = ResourceStore()
    for item in record["input_items"]:
        items.add(item)
    page = items.page(after=query.after, limit=query.limit, order=query.order)
    return JSONReply(page.body(first_last=True))


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/responses", Endpoint(create_response), methods=["POST"]),
        Route("/v1/responses/input_tokens", Endpoint(count_input_tokens), methods=["POST"]),
        Route("/v1/responses/{response_id}", Endpoint(retrieve_response, json_body=False), methods=["GET"]),
        Route("/v1/responses/{response_id}", Endpoint(delete_response, json_body=False), methods=["DELETE"]),
        Route("/v1/responses/{response_id}/input_items", Endpoint(list_input_items, json_body=False), methods=["GET"]),
    ]
