from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from _helpers import post, stream_chunks
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from starlette.requests import Request

from mockserver import MockServer, ServerConfig
from mockserver.endpoints.chat import create_chat_completion
from mockserver.http.dispatch import Call
from mockserver.state.server_state import ServerState
from mockserver.wire.replies import StreamReply
from mockserver.wire.sse import DONE

MESSAGES = [{"role": "user", "content": "Write a short story."}]
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 9}},
            "required": ["query", "limit"],
        },
    },
}


async def _collect(client: openai.AsyncOpenAI, **params: Any) -> list[ChatCompletionChunk]:
    stream = await client.chat.completions.create(model="gpt-4o", stream=True, **params)
    async with stream:
        return [chunk async for chunk in stream]


async def test_streamed_content_equals_the_non_streamed_reply(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    chunks = await _collect(client, messages=MESSAGES)
    assert len({chunk.id for chunk in chunks}) == 1
    assert len({chunk.created for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert content == whole.choices[0].message.content
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    assert all(chunk.usage is None for chunk in chunks)
    assert {chunk.system_fingerprint for chunk in chunks} == {whole.system_fingerprint}


async def test_include_usage_adds_a_last_chunk_with_no_choices(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    chunks = await _collect(client, messages=MESSAGES, stream_options={"include_usage": True})
    *body, last = chunks
    assert last.choices == []
    assert last.usage == whole.usage
    assert all(chunk.usage is None and len(chunk.choices) == 1 for chunk in body)


async def test_n_choices_interleave_each_with_its_own_role_and_finish(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=3)  # type: ignore[arg-type]
    chunks = await _collect(client, messages=MESSAGES, n=3)
    assert all(len(chunk.choices) == 1 for chunk in chunks)
    assert [chunk.choices[0].index for chunk in chunks[:6]] == [0, 1, 2, 0, 1, 2]
    for index in range(3):
        mine = [chunk.choices[0] for chunk in chunks if chunk.choices[0].index == index]
        assert mine[0].delta.role == "assistant"
        assert sum(1 for choice in mine if choice.delta.role) == 1
        assert [choice.finish_reason for choice in mine if choice.finish_reason] == ["stop"]
        assert "".join(choice.delta.content or "" for choice in mine) == whole.choices[index].message.content


async def test_tool_call_deltas_open_with_id_and_name_then_carry_argument_pieces(client: openai.AsyncOpenAI) -> None:
    params: dict[str, Any] = {"messages": MESSAGES, "tools": [TOOL], "tool_choice": "required"}
    whole = await client.chat.completions.create(model="gpt-4o", **params)
    chunks = await _collect(client, **params)
    first = chunks[0].choices[0].delta
    assert first.role == "assistant"
    assert first.content is None
    fragments = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
    opening, *rest = fragments
    expected = (whole.choices[0].message.tool_calls or [])[0]
    assert opening.index == 0
    assert opening.id == expected.id
    assert opening.type == "function"
    assert opening.function is not None
    assert opening.function.name == expected.function.name  # type: ignore[union-attr]
    assert opening.function.arguments == ""
    assert rest
    for fragment in rest:
        assert fragment.index == 0
        assert fragment.id is None
        assert fragment.type is None
        assert fragment.function is not None
        assert fragment.function.name is None
    arguments = "".join(fragment.function.arguments or "" for fragment in rest if fragment.function)
    assert arguments == expected.function.arguments  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_logprobs_stream_one_per_content_chunk(client: openai.AsyncOpenAI) -> None:
    params: dict[str, Any] = {"messages": MESSAGES, "logprobs": True, "top_logprobs": 2}
    whole = await client.chat.completions.create(model="gpt-4o", **params)
    chunks = await _collect(client, **params)
    streamed = []
    for chunk in chunks:
        choice = chunk.choices[0]
        if choice.delta.content:
            assert choice.logprobs is not None
            (token,) = choice.logprobs.content or []
            assert token.token == choice.delta.content
            streamed.append(token)
        else:
            assert choice.logprobs is None
    assert whole.choices[0].logprobs is not None
    assert streamed == whole.choices[0].logprobs.content


async def test_the_stream_helper_assembles_the_same_completion(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        deltas = [event.delta async for event in stream if event.type == "content.delta"]
        final = await stream.get_final_completion()
    assert "".join(deltas) == whole.choices[0].message.content
    assert final.choices[0].message.content == whole.choices[0].message.content
    assert final.choices[0].finish_reason == "stop"


async def test_breaking_out_of_a_stream_early_is_clean(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    async with stream:
        async for chunk in stream:
            assert chunk.choices[0].delta.role == "assistant"
            break
    follow_up = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert follow_up.choices[0].message.content


def test_raw_frames_are_data_lines_ending_with_done(server: MockServer) -> None:
    chunks = stream_chunks(
        server,
        "/chat/completions",
        {"model": "gpt-4o", "messages": MESSAGES, "n": 2, "stream_options": {"include_usage": True}},
    )
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk, strict=True)
        assert chunk["object"] == "chat.completion.chunk"
        assert "usage" in chunk
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    closing = [chunk for chunk in chunks if chunk["choices"] and chunk["choices"][0]["finish_reason"]]
    assert [chunk["choices"][0]["delta"] for chunk in closing] == [{}, {}]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_raw_stream_and_body_agree(server: MockServer) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 5}
    whole = post(server, "/chat/completions", body).json()
    ChatCompletion.model_validate(whole, strict=True)
    chunks = stream_chunks(server, "/chat/completions", body)
    content = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert content == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert len([chunk for chunk in chunks if chunk["choices"][0]["delta"].get("content")]) == 5


async def test_the_stream_reply_ends_with_done_as_its_terminal(server: MockServer) -> None:
    request = Request({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []})
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    reply = await create_chat_completion(Call(request, body, server.state))
    assert isinstance(reply, StreamReply)
    assert reply.terminal == (DONE,)
    events = tuple(reply.events)  # made as they are taken
    assert DONE not in events
    usage = json.loads(events[-1].data)["usage"]
    assert reply.tokens == usage["total_tokens"] > 0


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"stream_options": {"include_usage": True}},
        {"n": 3},
        {"logprobs": True, "top_logprobs": 2},
        {"max_tokens": 4},
        {"tools": [TOOL], "tool_choice": "required"},
        {"messages": [{"role": "user", "content": "Tell me something 'quoted' \"and\" \\ escaped é"}]},
    ],
)
async def test_the_encoded_frames_are_the_events_encoded(fields: dict[str, Any]) -> None:
    """A stream sent as it is goes out as ``frames``; shaped by a fault, as ``events``: the same bytes."""
    request = Request({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []})
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True, **fields}
    # a clock that stands still: both replies are ``created`` in the same second
    state = ServerState(ServerConfig(), clock=lambda: 1_765_000_000.0)
    # the same request twice: the same text (a fresh id each, so the ids are made alike below)
    replies = [await create_chat_completion(Call(request, body, state)) for _ in range(2)]
    framed, evented = replies
    assert isinstance(framed, StreamReply)
    assert isinstance(evented, StreamReply)
    assert framed.frames is not None
    frames = list(framed.frames)
    assert len(frames) > 2
    assert all(frame.startswith(b"data: {") and frame.endswith(b"}\n\n") for frame in frames)
    encoded = [event.encode() for event in evented.events]
    framed_id, evented_id = (json.loads(stream[0][len(b"data: ") :])["id"].encode() for stream in (frames, encoded))
    assert [frame.replace(framed_id, evented_id) for frame in frames] == encoded
