from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import openai
import pytest
from _helpers import post, sdk_client
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from starlette.requests import Request

from mockserver import CannedReply, CannedToolCall, MockServer, ServerConfig
from mockserver.content.tokenizer import count_message_tokens, count_tokens
from mockserver.endpoints.chat import create_chat_completion
from mockserver.http.dispatch import Call
from mockserver.wire.replies import JSONReply

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me about the sea."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


async def test_a_completion_has_openai_ids_and_usage(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", completion.id)
    assert re.fullmatch(r"fp_[0-9a-f]{10}", completion.system_fingerprint or "")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o"
    assert completion.service_tier == "default"
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.logprobs is None
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == count_message_tokens(MESSAGES)
    assert usage.completion_tokens == count_tokens(choice.message.content)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0


async def test_the_same_request_gets_the_same_content(client: openai.AsyncOpenAI) -> None:
    first = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    second = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    other = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Other."}])
    assert first.id != second.id
    assert first.choices[0].message.content == second.choices[0].message.content
    assert other.choices[0].message.content != first.choices[0].message.content


async def test_n_gives_distinct_indexed_choices(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=3)  # type: ignore[arg-type]
    assert [choice.index for choice in completion.choices] == [0, 1, 2]
    assert len({choice.message.content for choice in completion.choices}) == 3
    assert completion.usage is not None
    total = sum(count_tokens(choice.message.content or "") for choice in completion.choices)
    assert completion.usage.completion_tokens == total


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_cuts_the_reply(client: openai.AsyncOpenAI, field: str) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        **{field: 3},  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3
    assert count_tokens(choice.message.content or "") == 3


async def test_stop_cuts_before_the_sequence(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.state.push_replies("Alpha beta. Gamma delta.", "Alpha beta. Gamma delta.")
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stop=[". G"])  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Alpha beta"
    assert completion.choices[0].finish_reason == "stop"
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stop="zzz")  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Alpha beta. Gamma delta."


async def test_canned_replies_are_served_in_order(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.state.push_replies(
        "Scripted.", CannedReply(tool_calls=(CannedToolCall(name="get_weather", arguments={"city": "Oslo"}),))
    )
    first = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert first.choices[0].message.content == "Scripted."
    second = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    (call,) = second.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    assert second.choices[0].message.content is None
    assert second.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    "tool_choice", ["required", {"type": "function", "function": {"name": "get_weather"}}], ids=["required", "named"]
)
async def test_tool_choice_makes_a_tool_call_with_schema_valid_arguments(
    client: openai.AsyncOpenAI, tool_choice: Any
) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice=tool_choice,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert re.fullmatch(r"call_[A-Za-z0-9]{24}", call.id)
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_TOOL["function"]["parameters"])  # type: ignore[union-attr,index]


async def test_auto_tool_choice_calls_a_tool_the_user_names(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Call get_weather for Paris."}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    none = await client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Call get_weather for Paris."}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="none",
    )
    assert none.choices[0].finish_reason == "stop"
    assert none.choices[0].message.tool_calls is None


async def test_a_tool_result_conversation_is_accepted(client: openai.AsyncOpenAI) -> None:
    messages = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 3}'},
    ]
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=messages,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="none",
    )
    assert completion.choices[0].message.content


async def test_json_schema_response_format_parses_into_the_model(client: openai.AsyncOpenAI) -> None:
    class Person(BaseModel):
        name: str
        age: int
        tags: list[str]

    completion = await client.chat.completions.parse(model="gpt-4o", messages=MESSAGES, response_format=Person)  # type: ignore[arg-type]
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Person)
    assert json.loads(completion.choices[0].message.content or "") == parsed.model_dump()


async def test_json_object_response_format_gives_an_object(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


async def test_logprobs_describe_every_token(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        logprobs=True,
        top_logprobs=3,
    )
    choice = completion.choices[0]
    assert choice.logprobs is not None
    tokens = choice.logprobs.content or []
    assert "".join(token.token for token in tokens) == choice.message.content
    for token in tokens:
        assert token.logprob <= 0
        assert token.bytes == list(token.token.encode())
        assert len(token.top_logprobs) == 3
        assert token.top_logprobs[0].token == token.token
        values = [top.logprob for top in token.top_logprobs]
        assert values == sorted(values, reverse=True)


async def test_content_parts_with_an_image_count_fixed_tokens(client: openai.AsyncOpenAI) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        }
    ]
    completion = await client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_message_tokens(messages)


async def test_echo_mode_answers_with_the_last_user_message() -> None:
    with MockServer(ServerConfig(mode="echo")) as echo_server:
        async with sdk_client(echo_server, "httpx", max_retries=0) as client:
            completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Tell me about the sea."


def test_raw_body_validates_against_the_sdk_type(server: MockServer) -> None:
    response = post(
        server,
        "/chat/completions",
        {"model": "gpt-4o", "messages": MESSAGES, "n": 2, "logprobs": True, "top_logprobs": 1},
    )
    assert response.status_code == 200
    body = response.json()
    ChatCompletion.model_validate(body, strict=True)
    assert set(body) == {"id", "object", "created", "model", "choices", "usage", "service_tier", "system_fingerprint"}
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": body["choices"][0]["message"]["content"],
        "refusal": None,
        "annotations": [],
    }
    assert 0 < body["created"] <= server.state.now()


async def test_the_reply_carries_its_token_cost(server: MockServer) -> None:
    request = Request({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []})
    reply = await create_chat_completion(Call(request, {"model": "gpt-4o", "messages": MESSAGES}, server.state))
    assert isinstance(reply, JSONReply)
    assert reply.tokens == reply.body["usage"]["total_tokens"] > 0


# --- errors -------------------------------------------------------------------------------------------------


async def test_an_unknown_model_is_404_model_not_found(strict_models: MockServer, client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-nope", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"


def _bad(**changes: Any) -> dict[str, Any]:
    body = {"model": "gpt-4o", "messages": MESSAGES}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


BAD_REQUESTS = [
    ({"model": "gpt-4o"}, "messages", "missing_required_parameter"),
    ({"messages": MESSAGES}, "model", "missing_required_parameter"),
    (_bad(messages=[]), "messages", "invalid_value"),
    (_bad(messages="hi"), "messages", "invalid_type"),
    (_bad(messages=[{"content": "hi"}]), "messages[0].role", "missing_required_parameter"),
    (_bad(messages=[{"role": "robot", "content": "hi"}]), "messages[0].role", "invalid_value"),
    (_bad(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id", "missing_required_parameter"),
    (_bad(messages=[{"role": "user"}]), "messages[0].content", "missing_required_parameter"),
    (_bad(messages=[{"role": "user", "content": [{"type": "video"}]}]), "messages[0].content[0].type", "invalid_value"),
    (_bad(messages=[{"role": "user", "content": []}]), "messages[0].content", "invalid_value"),
    (_bad(parallel_tool_calls="yes"), "parallel_tool_calls", "invalid_type"),
    (_bad(n=0), "n", "invalid_value"),
    (_bad(n=129), "n", "invalid_value"),
    (_bad(n="2"), "n", "invalid_type"),
    (_bad(temperature=2.5), "temperature", "invalid_value"),
    (_bad(top_p=-0.1), "top_p", "invalid_value"),
    (_bad(presence_penalty=3), "presence_penalty", "invalid_value"),
    (_bad(frequency_penalty=-2.5), "frequency_penalty", "invalid_value"),
    (_bad(top_logprobs=2), "top_logprobs", "invalid_value"),
    (_bad(logprobs=True, top_logprobs=21), "top_logprobs", "invalid_value"),
    (_bad(stop=["a", "b", "c", "d", "e"]), "stop", "invalid_value"),
    (_bad(stop=5), "stop", "invalid_type"),
    (_bad(max_tokens=0), "max_tokens", "invalid_value"),
    (_bad(stream_options={"include_usage": True}), "stream_options", "invalid_value"),
    (_bad(tools=[{"type": "function"}]), "tools[0].function", "missing_required_parameter"),
    (_bad(tools=[{"type": "function", "function": {"name": "bad name!"}}]), "tools[0].function.name", "invalid_value"),
    (_bad(tool_choice="auto"), "tool_choice", "invalid_value"),
    (
        _bad(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "nope"}}),
        "tool_choice",
        "invalid_value",
    ),
    (_bad(response_format={"type": "yaml"}), "response_format.type", "invalid_value"),
    (_bad(response_format={"type": "json_schema"}), "response_format.json_schema", "missing_required_parameter"),
    (_bad(metadata={"k": 1}), "metadata.k", "invalid_type"),
    (_bad(service_tier="gold"), "service_tier", "invalid_value"),
]


@pytest.mark.parametrize(
    ("body", "param", "code"), BAD_REQUESTS, ids=[case[1] + ":" + case[2] for case in BAD_REQUESTS]
)
def test_bad_requests_are_400_with_param_and_code(server: MockServer, body: Any, param: str, code: str) -> None:
    response = post(server, "/chat/completions", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]


async def test_the_sdk_raises_bad_request_with_the_param(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=5)  # type: ignore[arg-type]
    assert caught.value.param == "temperature"
    assert caught.value.code == "invalid_value"
