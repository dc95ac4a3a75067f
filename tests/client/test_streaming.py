"""AsyncStream: how streams end (and must not end), errors inside streams, and the connection always released."""

from __future__ import annotations

import asyncio
import gc

import msgspec
import pytest
from client_fakes import FakeResponse, fake_client, sse_response

from client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncOpenAI,
    DefaultAioHttpClient,
    IncompleteStreamError,
)
from client._transport import TransportTimeout
from mockserver import MockServer

MESSAGES = [{"role": "user", "content": "hi"}]


def _chunk(content: str) -> dict[str, object]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}  # fmt: skip


def _event(kind: str, sequence: int, **fields: object) -> bytes:
    payload = msgspec.json.encode({"type": kind, "sequence_number": sequence, **fields})
    return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"


async def _collect_into(stream: object, received: list[object]) -> None:
    async for item in stream:  # type: ignore[attr-defined]
        received.append(item)


async def _collect(stream: object) -> list[object]:
    return [item async for item in stream]  # type: ignore[attr-defined]


async def test_chat_stream_without_done_raises_incomplete() -> None:
    api, transport, _ = fake_client(sse_response([_chunk("a"), _chunk("b")], done=False))
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        received: list[object] = []
        with pytest.raises(IncompleteStreamError, match=r"\[DONE\]"):
            await _collect_into(stream, received)
    assert len(received) == 2
    assert issubclass(IncompleteStreamError, APIConnectionError)
    assert transport.sent[0].closed


async def test_error_event_raises_api_error_with_body() -> None:
    error = {"message": "The server had an error", "type": "server_error", "code": "boom", "param": None}
    reply = sse_response([_chunk("a"), {"error": error}])
    api, transport, _ = fake_client(reply)
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(APIError) as caught:
            await _collect(stream)
    assert caught.value.message == "The server had an error"
    assert caught.value.body == error
    assert caught.value.code == "boom"
    assert transport.sent[0].closed


async def test_content_mentioning_error_is_not_an_error() -> None:
    api, _, _ = fake_client(sse_response([_chunk('"error"'), {**_chunk("x"), "error": None}]))
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        chunks = await _collect(stream)
    assert len(chunks) == 2


async def test_malformed_event_is_a_validation_error() -> None:
    reply = FakeResponse(200, {}, [b"data: {not json\n\n"])
    api, transport, _ = fake_client(reply)
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(APIResponseValidationError):
            await _collect(stream)
    assert transport.sent[0].closed


async def test_read_timeout_mid_stream_is_api_timeout_error() -> None:
    reply = FakeResponse(200, {}, [b"data: " + msgspec.json.encode(_chunk("a")) + b"\n\n", TransportTimeout("slow")])
    api, _, _ = fake_client(reply)
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(APITimeoutError):
            await _collect(stream)


async def test_responses_stream_ends_at_terminal_event() -> None:
    body = [
        _event("response.created", 0, response={"id": "resp_1"}),
        _event("response.output_text.delta", 1, delta="Hi"),
    ]
    body.append(_event("response.completed", 2, response={"id": "resp_1", "status": "completed"}))
    api, transport, _ = fake_client(FakeResponse(200, {}, list(body)))
    async with api:
        stream = await api.responses.create(model="m", input="hi", stream=True)
        events = await _collect(stream)
    assert [event.type for event in events] == ["response.created", "response.output_text.delta", "response.completed"]  # type: ignore[attr-defined]
    assert events[1].delta == "Hi"  # type: ignore[attr-defined]
    assert events[2].response.status == "completed"  # type: ignore[attr-defined]
    assert transport.sent[0].closed


async def test_responses_stream_without_terminal_event_raises() -> None:
    body = [_event("response.created", 0), _event("response.output_text.delta", 1, delta="Hi")]
    api, _, _ = fake_client(FakeResponse(200, {}, list(body)))
    async with api:
        stream = await api.responses.create(model="m", input="hi", stream=True)
        with pytest.raises(IncompleteStreamError, match=r"response\.completed"):
            await _collect(stream)


async def test_responses_error_event_raises_api_error() -> None:
    body = [_event("response.created", 0), _event("error", 1, code="server_error", message="Oops", param=None)]
    api, _, _ = fake_client(FakeResponse(200, {}, list(body)))
    async with api:
        stream = await api.responses.create(model="m", input="hi", stream=True)
        with pytest.raises(APIError, match="Oops") as caught:
            await _collect(stream)
    assert caught.value.code == "server_error"


async def test_async_with_and_close_release_the_connection() -> None:
    api, transport, _ = fake_client(sse_response([_chunk("a"), _chunk("b")]))
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with stream:
            async for _ in stream:
                break
        assert transport.sent[0].closed
        unread = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        await unread.close()
        assert transport.sent[1].closed
        assert await _collect(unread) == []


async def test_break_then_dropping_the_stream_releases_the_connection() -> None:
    reply = FakeResponse(200, {}, [b"data: " + msgspec.json.encode(_chunk("a")) + b"\n\n"], hang=True)
    api, transport, _ = fake_client(reply)
    async with api:
        stream = await api.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for _ in stream:
            break
        assert not reply.closed
        del stream
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)
    assert transport.sent[0].closed


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_server_stream_error_and_cuts(server: MockServer, transport: str) -> None:
    http_client = DefaultAioHttpClient() if transport == "aiohttp" else None
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test", http_client=http_client) as api:
        server.on(path="/v1/chat/completions").stream_error(after_events=2, message="kaput").times(1)
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        with pytest.raises(APIError, match="kaput"):
            await _collect(stream)
        server.on(path="/v1/chat/completions").truncate().times(1)
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        with pytest.raises(IncompleteStreamError):
            await _collect(stream)
        server.on(path="/v1/chat/completions").disconnect(after_events=2).times(1)
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        with pytest.raises(APIConnectionError):
            await _collect(stream)
        server.on(path="/v1/responses").truncate().times(1)
        responses_stream = await api.responses.create(model="gpt-4o", input="hi", stream=True)
        with pytest.raises(IncompleteStreamError):
            await _collect(responses_stream)
        server.on(path="/v1/chat/completions").malformed(after_events=1).times(1)
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        with pytest.raises(APIResponseValidationError):
            await _collect(stream)
        # the pool still works after every failure
        completion = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
