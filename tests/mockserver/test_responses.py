"""``POST /v1/responses`` (not streamed) and stored responses, through the official SDK (both transports) and raw
HTTP; every body is validated against the SDK's types."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import openai
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import InputTokenCountResponse, Response, ResponseItem

from mockserver import MockServer

MODEL = "gpt-4o"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
}
RESPONSE_ITEMS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseItem)


@pytest.fixture
def http(server: MockServer, shared_http: httpx.Client) -> httpx.Client:
    """The module's one plain HTTP client (``shared_http``) for raw bodies, against a freshly reset server."""
    return shared_http


def create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/responses", json={"model": MODEL, **body})
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    Response.model_validate(payload)
    return payload


async def test_text_response_has_every_field(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.responses.create(model=MODEL, input="Tell me something.", metadata={"run": "1"})
    assert response.id.startswith("resp_")
    assert len(response.id) == len("resp_") + 48
    assert response.object == "response"
    assert response.status == "completed"
    assert response.error is None
    assert response.incomplete_details is None
    assert response.model == MODEL
    assert response.metadata == {"run": "1"}
    assert response.parallel_tool_calls is True
    assert response.tool_choice == "auto"
    assert response.tools == []
    assert response.text is not None
    assert response.text.format.type == "text"
    assert response.completed_at is not None
    [message] = response.output
    assert message.type == "message"
    assert message.id.startswith("msg_")
    assert message.status == "completed"
    assert response.output_text
    assert response.usage is not None
    assert response.usage.output_tokens > 0
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0


async def test_content_is_deterministic_per_request(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    first = await sdk.responses.create(model=MODEL, input="Describe the sea.")
    server.state.reset()
    again = await sdk.responses.create(model=MODEL, input="Describe the sea.")
    assert again.output_text == first.output_text
    assert again.id == first.id


async def test_instructions_and_settings_are_echoed(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.responses.create(
        model=MODEL,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
        instructions="Be brief.",
        temperature=0.2,
        top_p=0.5,
        max_output_tokens=200,
        truncation="auto",
        user="user-1",
    )
    assert response.instructions == "Be brief."
    assert (response.temperature, response.top_p) == (0.2, 0.5)
    assert response.max_output_tokens == 200
    assert response.truncation == "auto"
    assert response.user == "user-1"


async def test_instructions_count_as_input_tokens(sdk: openai.AsyncOpenAI) -> None:
    plain = await sdk.responses.create(model=MODEL, input="Hi")
    instructed = await sdk.responses.create(model=MODEL, input="Hi", instructions="Answer in five words or less.")
    assert plain.usage is not None
    assert instructed.usage is not None
    assert instructed.usage.input_tokens > plain.usage.input_tokens


async def test_max_output_tokens_makes_the_response_incomplete(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    server.state.push_replies(" ".join(["word"] * 40))
    response = await sdk.responses.create(model=MODEL, input="Talk at length.", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.completed_at is None
    assert response.usage is not None
    assert response.usage.output_tokens == 16
    [message] = response.output
    assert message.type == "message"
    assert message.status == "incomplete"
    assert response.output_text == " ".join(["word"] * 16)


async def test_function_tool_call(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.responses.create(
        model=MODEL,
        input="What does get_weather say for Paris?",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    [call] = response.output
    assert call.type == "function_call"
    assert call.id is not None
    assert call.id.startswith("fc_")
    assert call.call_id.startswith("call_")
    assert len(call.call_id) == 29
    assert call.name == "get_weather"
    assert call.status == "completed"
    jsonschema.validate(json.loads(call.arguments), WEATHER_TOOL["parameters"])
    [tool] = response.tools
    assert tool.type == "function"
    assert tool.name == "get_weather"
    assert tool.strict is True


async def test_tool_choice_forces_or_forbids_a_call(sdk: openai.AsyncOpenAI) -> None:
    tools: Any = [WEATHER_TOOL, TIME_TOOL]
    forced = await sdk.responses.create(
        model=MODEL, input="Hello there", tools=tools, tool_choice={"type": "function", "name": "get_time"}
    )
    assert [(item.type, getattr(item, "name", None)) for item in forced.output] == [("function_call", "get_time")]
    assert forced.tool_choice.type == "function"  # type: ignore[union-attr]
    required = await sdk.responses.create(model=MODEL, input="Hello there", tools=tools, tool_choice="required")
    assert [item.type for item in required.output] == ["function_call"]
    forbidden = await sdk.responses.create(model=MODEL, input="use get_time", tools=tools, tool_choice="none")
    assert [item.type for item in forbidden.output] == ["message"]


async def test_parallel_tool_calls_false_keeps_one_call(sdk: openai.AsyncOpenAI) -> None:
    tools: Any = [WEATHER_TOOL, TIME_TOOL]
    both = await sdk.responses.create(model=MODEL, input="get_weather and get_time please", tools=tools)
    assert [getattr(item, "name", None) for item in both.output] == ["get_weather", "get_time"]
    single = await sdk.responses.create(
        model=MODEL, input="get_weather and get_time please", tools=tools, parallel_tool_calls=False
    )
    assert [getattr(item, "name", None) for item in single.output] == ["get_weather"]
    assert single.parallel_tool_calls is False
    assert both.usage is not None
    assert single.usage is not None
    assert 0 < single.usage.output_tokens < both.usage.output_tokens


async def test_tool_result_turn_continues_the_conversation(sdk: openai.AsyncOpenAI) -> None:
    tools: Any = [WEATHER_TOOL]
    first = await sdk.responses.create(model=MODEL, input="Ask get_weather about Oslo", tools=tools)
    [call] = first.output
    assert call.type == "function_call"
    second = await sdk.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 3}'}],
        tools=tools,
    )
    assert second.previous_response_id == first.id
    assert [item.type for item in second.output] == ["message"]
    assert second.output_text
    assert first.usage is not None
    assert second.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens


async def test_output_items_can_be_sent_back_as_input(sdk: openai.AsyncOpenAI) -> None:
    tools: Any = [WEATHER_TOOL]
    conversation: list[Any] = [{"role": "user", "content": "Ask get_weather about Lima"}]
    first = await sdk.responses.create(model=MODEL, input=conversation, tools=tools, store=False)
    [call] = first.output
    assert call.type == "function_call"
    conversation += first.output
    conversation.append({"type": "function_call_output", "call_id": call.call_id, "output": "warm"})
    second = await sdk.responses.create(model=MODEL, input=conversation, tools=tools)
    assert [item.type for item in second.output] == ["message"]
    listed = await sdk.responses.input_items.list(second.id, order="asc")
    assert [item.type for item in listed.data] == ["message", "function_call", "function_call_output"]
    assert listed.data[1].id == call.id


async def test_reasoning_model_thinks_first(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.responses.create(model="o3-mini", input="Why is the sky blue?")
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.id.startswith("rs_")
    assert reasoning.summary == []
    assert response.reasoning is not None
    assert response.reasoning.effort == "medium"
    assert response.usage is not None
    thinking = response.usage.output_tokens_details.reasoning_tokens
    assert thinking > 0
    assert response.usage.output_tokens > thinking
    plain = await sdk.responses.create(model=MODEL, input="Why is the sky blue?")
    assert [item.type for item in plain.output] == ["message"]
    assert plain.usage is not None
    assert plain.usage.output_tokens_details.reasoning_tokens == 0


async def test_reasoning_effort_scales_the_thinking(sdk: openai.AsyncOpenAI) -> None:
    spent = {}
    for effort in ("none", "minimal", "xhigh"):
        response = await sdk.responses.create(model="o3-mini", input="Plan a trip.", reasoning={"effort": effort})
        assert response.usage is not None
        spent[effort] = response.usage.output_tokens_details.reasoning_tokens
        assert (response.output[0].type == "reasoning") == (effort != "none")
    assert spent["none"] == 0
    assert 0 < spent["minimal"] < spent["xhigh"]
    capped = await sdk.responses.create(
        model="o3-mini", input="Plan a trip.", reasoning={"effort": "xhigh"}, max_output_tokens=40
    )
    assert capped.usage is not None
    assert capped.usage.output_tokens_details.reasoning_tokens == 20
    assert capped.usage.output_tokens <= 40


async def test_reasoning_items_can_be_sent_back_statelessly(sdk: openai.AsyncOpenAI) -> None:
    tools: Any = [WEATHER_TOOL]
    conversation: list[Any] = [{"role": "user", "content": "Ask get_weather about Quito"}]
    first = await sdk.responses.create(
        model="o3-mini", input=conversation, tools=tools, store=False, include=["reasoning.encrypted_content"]
    )
    reasoning, call = first.output
    assert reasoning.type == "reasoning"
    assert reasoning.encrypted_content
    assert call.type == "function_call"
    conversation += first.output
    conversation.append({"type": "function_call_output", "call_id": call.call_id, "output": "mild"})
    second = await sdk.responses.create(model="o3-mini", input=conversation, tools=tools)
    assert [item.type for item in second.output] == ["reasoning", "message"]
    listed = await sdk.responses.input_items.list(second.id, order="asc")
    assert [item.type for item in listed.data] == ["message", "reasoning", "function_call", "function_call_output"]
    assert listed.data[1].id == reasoning.id


async def test_input_token_count_matches_the_usage(sdk: openai.AsyncOpenAI) -> None:
    conversation: Any = [{"role": "user", "content": "Count these words, please."}]
    created = await sdk.responses.create(model=MODEL, input=conversation, instructions="Be exact.")
    counted = await sdk.responses.input_tokens.count(model=MODEL, input=conversation, instructions="Be exact.")
    assert counted.object == "response.input_tokens"
    assert created.usage is not None
    assert counted.input_tokens == created.usage.input_tokens
    follow_up: Any = [{"role": "user", "content": "And now?"}]
    continued = await sdk.responses.create(model=MODEL, input=follow_up, previous_response_id=created.id)
    counted_again = await sdk.responses.input_tokens.count(input=follow_up, previous_response_id=created.id)
    assert continued.usage is not None
    assert counted_again.input_tokens == continued.usage.input_tokens


def test_input_token_count_rejects_create_only_parameters(http: httpx.Client) -> None:
    response = http.post("/responses/input_tokens", json={"input": "x", "stream": True})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream"


async def test_unknown_previous_response_is_404(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.responses.create(model=MODEL, input="Hi", previous_response_id="resp_missing")
    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"


async def test_json_schema_output_parses_into_a_model(sdk: openai.AsyncOpenAI) -> None:
    class Weather(pydantic.BaseModel):
        city: str
        degrees: int
        sunny: bool

    parsed = await sdk.responses.parse(model=MODEL, input="Weather report", text_format=Weather)
    assert isinstance(parsed.output_parsed, Weather)
    assert parsed.text is not None
    assert parsed.text.format.type == "json_schema"


def test_json_object_needs_the_word_json(http: httpx.Client) -> None:
    refused = http.post("/responses", json={"model": MODEL, "input": "Hi", "text": {"format": {"type": "json_object"}}})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "input"
    body = create(http, input="Answer in JSON", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(body["output"][0]["content"][0]["text"]), dict)


async def test_stored_response_can_be_retrieved_and_deleted(sdk: openai.AsyncOpenAI) -> None:
    created = await sdk.responses.create(model=MODEL, input="Remember me")
    retrieved = await sdk.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()
    await sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.delete(created.id)


async def test_store_false_is_not_kept(sdk: openai.AsyncOpenAI) -> None:
    created = await sdk.responses.create(model=MODEL, input="Forget me", store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.create(model=MODEL, input="again", previous_response_id=created.id)


async def test_input_items_are_listed_newest_first_with_pages(sdk: openai.AsyncOpenAI) -> None:
    conversation: Any = [
        {"role": "developer", "content": "Be kind."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi!"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    created = await sdk.responses.create(model=MODEL, input=conversation)
    every = [item async for item in sdk.responses.input_items.list(created.id, limit=2)]
    assert [item.type for item in every] == [
        "function_call_output",
        "function_call",
        "message",
        "message",
        "message",
        "message",
    ]
    assert len({item.id for item in every}) == 6
    oldest_first = await sdk.responses.input_items.list(created.id, order="asc")
    assert [item.id for item in oldest_first.data] == [item.id for item in reversed(every)]
    assert oldest_first.data[0].role == "developer"  # type: ignore[union-attr]
    assert oldest_first.data[0].content[0].text == "Be kind."  # type: ignore[union-attr]


def test_input_items_validate_as_sdk_items(http: httpx.Client) -> None:
    created = create(
        http,
        input=[
            {"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/a.png"}]},
            {"role": "user", "content": [{"type": "input_file", "file_id": "file-1", "filename": "a.pdf"}]},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        ],
    )
    listing = http.get(f"/responses/{created['id']}/input_items").json()
    assert listing["object"] == "list"
    assert listing["has_more"] is False
    assert listing["first_id"] == listing["data"][0]["id"]
    for item in listing["data"]:
        RESPONSE_ITEMS.validate_python(item)


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"input": "x"}, 400, "model", "missing_required_parameter"),
        ({"model": MODEL}, 400, "input", "missing_required_parameter"),
        ({"model": "no-such-model", "input": "x"}, 404, "model", "model_not_found"),
        ({"model": MODEL, "input": "x", "temperature": 2.5}, 400, "temperature", "invalid_value"),
        ({"model": MODEL, "input": "x", "top_p": -0.1}, 400, "top_p", "invalid_value"),
        ({"model": MODEL, "input": "x", "max_output_tokens": 4}, 400, "max_output_tokens", "invalid_value"),
        ({"model": MODEL, "input": "x", "max_output_tokens": "9"}, 400, "max_output_tokens", "invalid_type"),
        ({"model": MODEL, "input": "x", "bogus": 1}, 400, "bogus", "unknown_parameter"),
        ({"model": MODEL, "input": 5}, 400, "input", "invalid_type"),
        ({"model": MODEL, "input": [{"role": "robot", "content": "x"}]}, 400, "input[0].role", "invalid_value"),
        ({"model": MODEL, "input": [{"role": "user"}]}, 400, "input[0].content", "missing_required_parameter"),
        ({"model": MODEL, "input": [{"type": "computer_call"}]}, 400, "input[0].type", "invalid_value"),
        (
            {"model": MODEL, "input": [{"type": "reasoning", "id": "rs_1"}]},
            400,
            "input[0].summary",
            "missing_required_parameter",
        ),
        (
            {"model": MODEL, "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]},
            400,
            "input[0].content[0].type",
            "invalid_value",
        ),
        ({"model": MODEL, "input": "x", "tool_choice": "required"}, 400, "tool_choice", "invalid_value"),
        (
            {
                "model": MODEL,
                "input": "x",
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "function", "name": "nope"},
            },
            400,
            "tool_choice",
            "invalid_value",
        ),
        ({"model": MODEL, "input": "x", "tools": [{"type": "function"}]}, 400, "tools[0].name", "invalid_value"),
        ({"model": MODEL, "input": "x", "tools": [{"type": "web_search"}]}, 400, "tools[0].type", "invalid_value"),
        ({"model": MODEL, "input": "x", "text": {"format": {"type": "xml"}}}, 400, "text.format.type", "invalid_value"),
        ({"model": MODEL, "input": "x", "metadata": {"k": 1}}, 400, "metadata.k", "invalid_type"),
        ({"model": MODEL, "input": "x", "text": {"verbosity": "loud"}}, 400, "text.verbosity", "invalid_value"),
        (
            {"model": MODEL, "input": "x", "tools": [{**WEATHER_TOOL, "strict": "yes"}]},
            400,
            "tools[0].strict",
            "invalid_type",
        ),
        ({"model": MODEL, "input": "x", "reasoning": {"effort": "huge"}}, 400, "reasoning.effort", "invalid_value"),
    ],
)
def test_bad_requests_get_openai_errors(
    strict_models: MockServer, http: httpx.Client, body: dict[str, Any], status: int, param: str, code: str | None
) -> None:
    response = http.post("/responses", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)


def test_unknown_response_ids_are_404(http: httpx.Client) -> None:
    for response in (
        http.get("/responses/resp_missing"),
        http.delete("/responses/resp_missing"),
        http.get("/responses/resp_missing/input_items"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "invalid_request_error"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message", "function_call", "function_call_output", "x"]),
        "role": st.sampled_from(["user", "assistant", "system", "developer", "x"]),
        "content": JSON_VALUES | st.text(max_size=10),
        "call_id": JSON_VALUES,
        "name": JSON_VALUES,
        "arguments": JSON_VALUES,
        "output": JSON_VALUES,
    },
)
BODIES = st.fixed_dictionaries(
    {"model": st.sampled_from([MODEL, "gpt-4o-mini"]) | JSON_VALUES},
    optional={
        "input": st.text(max_size=20) | st.lists(ITEMS, max_size=3) | JSON_VALUES,
        "instructions": JSON_VALUES,
        "max_output_tokens": st.integers(-5, 100) | JSON_VALUES,
        "temperature": st.floats(-1, 3) | JSON_VALUES,
        "top_p": JSON_VALUES,
        "tools": st.lists(st.just(WEATHER_TOOL) | JSON_VALUES, max_size=2) | JSON_VALUES,
        "tool_choice": st.sampled_from(["auto", "none", "required", {"type": "function", "name": "get_weather"}])
        | JSON_VALUES,
        "text": st.just({"format": {"type": "json_object"}}) | JSON_VALUES,
        "previous_response_id": JSON_VALUES,
        "store": JSON_VALUES,
        "stream": st.booleans() | JSON_VALUES,
        "metadata": JSON_VALUES,
        "reasoning": JSON_VALUES,
        "parallel_tool_calls": JSON_VALUES,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES | JSON_VALUES, path=st.sampled_from(["/responses", "/responses/input_tokens"]))
def test_arbitrary_bodies_never_cause_a_server_error(http: httpx.Client, body: Any, path: str) -> None:
    response = http.post(path, json=body)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    elif path.endswith("input_tokens"):
        InputTokenCountResponse.model_validate(response.json())
    elif response.headers["content-type"].startswith("application/json"):
        Response.model_validate(response.json())
    else:
        assert response.text.startswith("event: response.created\n")
