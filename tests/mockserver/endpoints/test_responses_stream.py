"""Streamed ``POST /v1/responses``: the SDK's raw stream and its ``responses.stream()`` helper (both transports),
the exact SSE framing, and the promise that a stream carries exactly the plain response."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import Response, ResponseStreamEvent

from mockserver import MockServer, ServerConfig
from mockserver.endpoints.responses import create_response
from mockserver.http.dispatch import Call
from mockserver.state.server_state import ServerState
from mockserver.wire.replies import StreamReply

MODEL = "gpt-4o"
STREAM_EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
}
#: fields that hold the wall-clock time, which may tick between two otherwise identical requests
CLOCK_FIELDS = ("created_at", "completed_at")


@pytest.fixture
def http(server: MockServer, shared_http: httpx.Client) -> httpx.Client:
    """The module's one plain HTTP client (``shared_http``) for raw bodies, against a freshly reset server."""
    return shared_http


def timeless(response: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in response.items() if name not in CLOCK_FIELDS}


def read_frames(http: httpx.Client, body: dict[str, Any]) -> tuple[httpx.Response, list[tuple[str, dict[str, Any]]]]:
    """POST a streamed request; the response and its frames as (``event:`` name, parsed ``data:``)."""
    with http.stream("POST", "/responses", json={**body, "stream": True}) as response:
        raw = response.read().decode()
    assert raw.endswith("\n\n")
    frames = []
    for frame in raw[:-2].split("\n\n"):
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        frames.append((event_line[len("event: ") :], json.loads(data_line[len("data: ") :])))
    return response, frames


async def test_stream_reassembles_to_the_plain_response(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    plain = await sdk.responses.create(model=MODEL, input="Tell me a story.")
    server.state.reset()
    events = [event async for event in await sdk.responses.create(model=MODEL, input="Tell me a story.", stream=True)]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert [event.type for event in events[:5]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert [event.type for event in events[-4:]] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert plain.usage is not None
    assert len(deltas) == plain.usage.output_tokens
    assert "".join(deltas) == plain.output_text
    created = events[0]
    assert created.type == "response.created"
    assert created.response.status == "in_progress"
    assert created.response.output == []
    completed = events[-1]
    assert completed.type == "response.completed"
    assert timeless(completed.response.model_dump()) == timeless(plain.model_dump())


async def test_stream_helper_gives_the_plain_response(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    plain = await sdk.responses.create(model=MODEL, input="Explain streams.", instructions="Be short.")
    server.state.reset()
    async with sdk.responses.stream(model=MODEL, input="Explain streams.", instructions="Be short.") as stream:
        snapshots = [event.snapshot async for event in stream if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert snapshots[-1] == plain.output_text
    assert final.output_text == plain.output_text
    assert timeless(final.model_dump(exclude={"output"})) == timeless(plain.model_dump(exclude={"output"}))
    assert [item.id for item in final.output] == [item.id for item in plain.output]


async def test_function_call_arguments_stream_in_pieces(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    tools: Any = [WEATHER_TOOL]
    plain = await sdk.responses.create(model=MODEL, input="Use get_weather for Rome", tools=tools)
    server.state.reset()
    async with sdk.responses.stream(model=MODEL, input="Use get_weather for Rome", tools=tools) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    added = next(event for event in events if event.type == "response.output_item.added")
    assert added.item.type == "function_call"
    assert added.item.arguments == ""
    deltas = [event.delta for event in events if event.type == "response.function_call_arguments.delta"]
    done = next(event for event in events if event.type == "response.function_call_arguments.done")
    [call] = plain.output
    assert call.type == "function_call"
    assert len(deltas) > 1
    assert "".join(deltas) == done.arguments == call.arguments
    assert [item.model_dump(exclude={"parsed_arguments"}) for item in final.output] == [call.model_dump()]


async def test_cut_stream_ends_with_response_incomplete(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    server.state.push_replies(" ".join(["piece"] * 30))
    stream = await sdk.responses.create(model=MODEL, input="Go on.", max_output_tokens=16, stream=True)
    events = [event async for event in stream]
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details is not None
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    assert sum(event.type == "response.output_text.delta" for event in events) == 16
    item_done = next(event for event in events if event.type == "response.output_item.done")
    assert item_done.item.status == "incomplete"


async def test_reasoning_item_streams_before_the_answer(sdk: openai.AsyncOpenAI) -> None:
    events = [event async for event in await sdk.responses.create(model="o3-mini", input="Think.", stream=True)]
    placed = [(event.type, event.output_index) for event in events if event.type.startswith("response.output_item")]
    assert placed == [
        ("response.output_item.added", 0),
        ("response.output_item.done", 0),
        ("response.output_item.added", 1),
        ("response.output_item.done", 1),
    ]
    added = events[2]
    assert added.type == "response.output_item.added"
    assert added.item.type == "reasoning"
    assert all(event.output_index == 1 for event in events if event.type == "response.output_text.delta")


async def test_streamed_response_is_stored(sdk: openai.AsyncOpenAI) -> None:
    events = [event async for event in await sdk.responses.create(model=MODEL, input="Keep this.", stream=True)]
    completed = events[-1]
    assert completed.type == "response.completed"
    stored = await sdk.responses.retrieve(completed.response.id)
    assert stored.model_dump() == completed.response.model_dump()


def test_raw_frames_are_named_numbered_and_typed(http: httpx.Client) -> None:
    response, frames = read_frames(http, {"model": MODEL, "input": "Use get_weather", "tools": [WEATHER_TOOL]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert [data["sequence_number"] for _, data in frames] == list(range(len(frames)))
    for name, data in frames:
        assert data["type"] == name
        STREAM_EVENTS.validate_python(data)
    [done] = [data for name, data in frames if name == "response.function_call_arguments.done"]
    assert done["name"] == "get_weather"
    assert frames[-1][0] == "response.completed"
    Response.model_validate(frames[-1][1]["response"])
    assert all(name != "[DONE]" for name, _ in frames)


def test_raw_text_frames_carry_positions(http: httpx.Client) -> None:
    _, frames = read_frames(http, {"model": MODEL, "input": "Positions."})
    item_id = frames[2][1]["item"]["id"]
    for name, data in frames:
        if name in ("response.output_text.delta", "response.output_text.done", "response.content_part.added"):
            assert (data["item_id"], data["output_index"], data["content_index"]) == (item_id, 0, 0)
        if name == "response.output_text.delta":
            assert data["logprobs"] == []
            assert data["delta"]


async def test_stream_reply_puts_only_the_final_event_in_terminal() -> None:
    state = ServerState(ServerConfig(seed=3))
    reply = await create_response(
        Call(
            {"type": "http", "method": "POST", "path": "/v1/responses", "headers": []},
            {"model": MODEL, "input": "Split me.", "stream": True},
            state,
        )
    )
    assert isinstance(reply, StreamReply)
    [terminal] = reply.terminal
    assert terminal.event == "response.completed"
    assert json.loads(terminal.data)["type"] == "response.completed"
    events = tuple(reply.events)  # made as they are taken
    assert all(event.event != "response.completed" for event in events)
    assert events[0].event == "response.created"
    usage = json.loads(terminal.data)["response"]["usage"]
    assert reply.tokens == usage["total_tokens"]


REQUESTS = st.fixed_dictionaries(
    {"input": st.text(min_size=1, max_size=40), "model": st.sampled_from([MODEL, "o3-mini"])},
    optional={
        "reasoning": st.sampled_from([{"effort": "low"}, {"effort": "none"}, {}]),
        "instructions": st.text(max_size=20),
        "max_output_tokens": st.integers(16, 60),
        "tools": st.just([WEATHER_TOOL]),
        "tool_choice": st.sampled_from(["auto", "none"]),
        "temperature": st.floats(0, 2),
        "parallel_tool_calls": st.booleans(),
    },
).filter(lambda body: "tool_choice" not in body or "tools" in body)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=REQUESTS)
def test_any_stream_ends_in_the_plain_response(server: MockServer, http: httpx.Client, body: dict[str, Any]) -> None:
    server.state.reset()
    plain = http.post("/responses", json=body).json()
    server.state.reset()
    _, frames = read_frames(http, body)
    assert timeless(frames[-1][1]["response"]) == timeless(plain)
    texts = "".join(data["delta"] for name, data in frames if name == "response.output_text.delta")
    plain_texts = "".join(
        part["text"] for item in plain["output"] if item["type"] == "message" for part in item["content"]
    )
    assert texts == plain_texts
