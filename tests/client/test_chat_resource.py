"""chat.completions.create: request building, typed answers, streaming, against a fake transport and the server."""

from __future__ import annotations

import msgspec
import pytest
from client_fakes import fake_client, json_response, sse_response

from client import AsyncOpenAI, AsyncStream
from client.types.chat import ChatCompletion, ChatCompletionChunk
from mockserver import MockServer

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
            "some_new_field": {"nested": True},
        }
    ],
    "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29},
}

MESSAGES = [{"role": "user", "content": "Hello!"}]


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def test_create_posts_json_and_returns_typed_completion() -> None:
    client, transport, _ = fake_client(json_response(COMPLETION))
    async with client:
        completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.5)
    assert isinstance(completion, ChatCompletion)
    assert completion.choices[0].message.content == "Hello!"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 29
    request = transport.requests[0]
    assert request.method == "POST"
    assert request.url == "http://fake.test/v1/chat/completions"
    assert msgspec.json.decode(request.content or b"") == {"messages": MESSAGES, "model": "gpt-4o", "temperature": 0.5}
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-stainless-retry-count"] == "0"
    assert request.headers["x-stainless-read-timeout"] == "600.0"
    assert transport.sent[0].closed


async def test_extras_are_merged_into_the_request() -> None:
    client, transport, _ = fake_client(json_response(COMPLETION))
    async with client:
        await client.chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
            extra_headers={"X-Custom": "1"},
            extra_query={"debug": True},
            extra_body={"seed": 7, "model": "gpt-4o-mini"},
            timeout=12.5,
        )
    request = transport.requests[0]
    body = msgspec.json.decode(request.content or b"")
    assert body["seed"] == 7
    assert body["model"] == "gpt-4o-mini"
    assert body["tools"][0]["function"]["name"] == "f"
    assert request.headers["x-custom"] == "1"
    assert request.url.endswith("/chat/completions?debug=true")
    assert request.timeout.read == 12.5
    assert request.timeout.connect == 12.5


async def test_to_dict_round_trips_known_fields() -> None:
    client, _, _ = fake_client(json_response(COMPLETION))
    async with client:
        completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    data = completion.to_dict()
    assert data["choices"][0]["message"]["content"] == "Hello!"
    assert "some_new_field" not in data["choices"][0]
    assert completion.model_dump(exclude_none=True)["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello!",
        "annotations": [],
    }


async def test_stream_yields_typed_chunks_until_done() -> None:
    events = [_chunk({"role": "assistant", "content": ""}), _chunk({"content": "Hel"}), _chunk({"content": "lo"})]
    events.append(_chunk({}, "stop"))
    client, transport, _ = fake_client(sse_response(events))
    async with client:
        stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        assert isinstance(stream, AsyncStream)
        chunks = [chunk async for chunk in stream]
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert msgspec.json.decode(transport.requests[0].content or b"")["stream"] is True
    assert transport.sent[0].closed


async def test_guide_calls_against_the_server(server: MockServer) -> None:
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as client:
        completion = await client.chat.completions.create(model="gpt-4", messages=MESSAGES)
        assert completion.choices[0].message.content
        assert completion.model == "gpt-4"
        stream = await client.chat.completions.create(model="gpt-4", messages=MESSAGES, stream=True)
        pieces = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces)


@pytest.mark.parametrize("include_usage", [True, False])
async def test_server_stream_with_usage(server: MockServer, include_usage: bool) -> None:
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as client:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": include_usage}
        )
        async with stream:
            chunks = [chunk async for chunk in stream]
    assert (chunks[-1].usage is not None) is include_usage
