"""The request-size rules OpenAI enforces, with its 400s, and replies cut at the output limit exactly as the API
reports it (``finish_reason: "length"``, ``status: "incomplete"``), on the session's real server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockserver import MockServer, ServerConfig
from mockserver.content.generation import GenerationRequest, ToolSpec, generate
from mockserver.content.schema_values import value_for_schema
from mockserver.content.tokenizer import count_tokens
from mockserver.state.server_state import ServerState

AUTH = {"Authorization": "Bearer sk-test"}
CHAT = "/v1/chat/completions"
WIDE_ARRAY = {"type": "array", "minItems": 256, "items": {"type": "string", "minLength": 256}}


def _post(server: MockServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + path.removeprefix("/v1"), json=body, headers=AUTH, timeout=60)


def _tool(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels - 1):
        schema = {"type": "object", "properties": {"x": schema}, "required": ["x"]}
    return schema


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"tools": [_tool(f"t{i}", {"type": "object"}) for i in range(129)]}, "tools", "array_above_max_length"),
        ({"tools": [_tool("deep", _nested(11))]}, "tools[0].function.parameters", "invalid_value"),
        (
            {"tools": [_tool("wide", {"type": "object", "properties": {f"p{i}": {} for i in range(5001)}})]},
            "tools[0].function.parameters",
            "invalid_value",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": _nested(11)}}},
            "response_format",
            "invalid_value",
        ),
        ({"max_tokens": 16_385}, "max_tokens", "invalid_value"),
        ({"max_completion_tokens": 10**9}, "max_completion_tokens", "invalid_value"),
    ],
)
def test_chat_requests_past_the_api_limits_get_its_400(
    server: MockServer, body: dict[str, Any], param: str, code: str
) -> None:
    reply = _post(server, CHAT, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **body})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


def test_the_schema_limits_name_the_schema_and_what_is_too_big(server: MockServer) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "report", "schema": _nested(11)}},
    }
    message = _post(server, CHAT, body).json()["error"]["message"]
    assert message == "Invalid schema for response_format 'report': 11 levels of nesting exceeds limit of 10."
    ten = {**body, "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": _nested(10)}}}
    assert _post(server, CHAT, ten).status_code == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": ["a"] * 2049}, "prompt"),
        ({"prompt": ["a"] * 2048, "n": 128}, "n"),
        ({"prompt": ["a"] * 17, "n": 128}, "n"),
    ],
)
def test_completions_past_the_prompt_and_choice_limits_get_a_400(
    server: MockServer, body: dict[str, Any], param: str
) -> None:
    reply = _post(server, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", **body})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == param


def test_2048_prompts_are_answered(server: MockServer) -> None:
    reply = _post(server, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["a"] * 2048})
    assert reply.status_code == 200
    assert len(reply.json()["choices"]) == 2048


def test_the_responses_api_stops_at_the_model_limit_as_incomplete() -> None:
    config = ServerConfig(output_token_limits={"gpt-4o": 300})
    schema = {"type": "object", "properties": {"a": WIDE_ARRAY}, "required": ["a"]}
    body = {
        "model": "gpt-4o",
        "input": "hi",
        "text": {"format": {"type": "json_schema", "name": "o", "schema": schema}},
    }
    with MockServer(config) as server:
        plain = _post(server, "/v1/responses", body).json()
        with httpx.stream("POST", server.base_url + "/responses", json={**body, "stream": True}, headers=AUTH) as reply:
            events = [json.loads(line[6:]) for line in reply.iter_lines() if line.startswith("data: ")]
    assert plain["status"] == "incomplete"
    assert plain["incomplete_details"] == {"reason": "max_output_tokens"}
    assert plain["usage"]["output_tokens"] == 300
    text = plain["output"][0]["content"][0]["text"]
    assert count_tokens(text) == 300
    assert text.startswith('{"a":["')
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["sequence_number"] == len(events) - 1
    deltas = [event["delta"] for event in events if event["type"] == "response.output_text.delta"]
    assert len(deltas) == 300
    assert "".join(deltas) == events[-1]["response"]["output"][0]["content"][0]["text"]


def test_tool_arguments_cut_at_the_limit_are_a_prefix_of_the_whole() -> None:
    state = ServerState(ServerConfig())
    tool = ToolSpec("t", {"type": "object", "properties": {"a": WIDE_ARRAY}, "required": ["a"]})
    whole = generate(state, GenerationRequest("hi", b"k", tools=(tool,), tool_choice="required", max_tokens=5000))
    cut = generate(state, GenerationRequest("hi", b"k", tools=(tool,), tool_choice="required", max_tokens=40))
    assert (whole.finish_reason, cut.finish_reason) == ("length", "length")
    [whole_call], [cut_call] = whole.tool_calls, cut.tool_calls
    assert whole_call.id == cut_call.id
    assert whole_call.arguments.startswith(cut_call.arguments)
    assert count_tokens(cut_call.name) + count_tokens(cut_call.arguments) == 40


def test_a_tool_call_whose_name_does_not_fit_is_not_made() -> None:
    state = ServerState(ServerConfig())
    tool = ToolSpec("a_long_tool_name", {"type": "object"})
    generation = generate(state, GenerationRequest("hi", b"k", tools=(tool,), tool_choice="required", max_tokens=1))
    assert (generation.tool_calls, generation.finish_reason, generation.completion_tokens) == ((), "length", 1)


def test_schema_values_stop_at_their_budget_whatever_the_schema_asks() -> None:
    import random

    schema = {"type": "array", "minItems": 10**9, "items": {"type": "string", "minLength": 10**9}}
    value = value_for_schema(schema, random.Random(1), budget=10_000)
    text = json.dumps(value)
    assert 10_000 < len(text) < 10_000 + 2_000
    required = [f"p{index}" for index in range(10_000)]
    wide = value_for_schema({"type": "object", "required": required}, random.Random(1), budget=500)
    assert len(json.dumps(wide)) < 1_000


def test_a_huge_canned_reply_is_cut_at_the_limit() -> None:
    state = ServerState(ServerConfig(output_token_limits={"gpt-4o": 100}))
    state.push_replies("word " * 5_000_000)
    generation = generate(state, GenerationRequest("hi", b"k", output_limit=100))
    assert (generation.finish_reason, generation.completion_tokens) == ("length", 100)
    assert len(generation.text or "") < 1000


async def test_a_stream_holds_one_event_at_a_time() -> None:
    import tracemalloc

    from mockserver.endpoints.chat import create_chat_completion
    from mockserver.http.dispatch import Call
    from mockserver.wire.replies import StreamReply

    state = ServerState(ServerConfig())
    tool = _tool("t", {"type": "object", "properties": {"a": WIDE_ARRAY}, "required": ["a"]})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "n": 2, "stream": True}
    reply = await create_chat_completion(
        Call(
            {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []},
            {**body, "tools": [tool], "tool_choice": "required"},
            state,
        )
    )
    assert isinstance(reply, StreamReply)
    tracemalloc.start()
    try:
        sent = 0
        for event in reply.events:  # as delivery takes them: each encoded, sent, dropped
            sent += len(event.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # two choices of 16,384 argument pieces each: megabytes of events, never more than a few of them held
    assert sent > 7_000_000
    assert peak < 1_000_000, f"{peak} bytes held while streaming {sent}"


def test_the_control_api_has_the_body_cap_of_the_api() -> None:
    with MockServer(ServerConfig(max_body_bytes=4096)) as server:
        big = json.dumps(["x" * 100] * 100)
        for path in ("/_mock/replies", "/_mock/rules"):
            reply = httpx.post(server.url + path, content=big, headers={"content-type": "application/json"})
            assert reply.status_code == 413
            assert reply.json()["error"]["code"] == "request_too_large"
        assert server.state.replies == type(server.state.replies)()
        assert httpx.post(server.url + "/_mock/replies", json=["fits"]).status_code == 200
