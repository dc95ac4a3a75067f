"""AsyncOpenAI against servers that misbehave at the byte level, on both transports: each misbehaviour ends in
the documented exception (APIConnectionError, IncompleteStreamError, APIResponseValidationError, or the status
error) - never a hang, never a raw transport or parser exception - and the client stays usable.

The transport-level versions of some of these live in test_transports_faults.py; these go through the whole
client (request building, status mapping, body decoding, SSE decoding).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import msgspec
import pytest
from raw_http_server import CHUNKED_HEAD, PATIENCE, Conversation, Script, chunk, raw_server

from client import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncOpenAI,
    DefaultAioHttpClient,
    HttpxTransport,
    IncompleteStreamError,
    InternalServerError,
    NotFoundError,
)
from client._transport import TransportError

MESSAGES = [{"role": "user", "content": "hi"}]
COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
}  # fmt: skip


def _chunk_event(content: str) -> bytes:
    payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}  # fmt: skip
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def _reply(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _answer(data: bytes) -> Script:
    """A server that answers every request on a connection with ``data``, then closes it."""

    async def script(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(data)

    return script


def _keep_answering(data: bytes) -> Script:
    """A server that answers every request with ``data`` and keeps the connection open for more."""

    async def script(conversation: Conversation) -> None:
        while await conversation.read_request() is not None:
            await conversation.send(data)

    return script


@pytest.fixture(params=["httpx", "aiohttp"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _Served:
    def __init__(self, script: Script, kind: str, opened: list[AsyncOpenAI]) -> None:
        self._script, self._kind, self._opened = script, kind, opened
        self._server = raw_server(script)

    async def __aenter__(self) -> AsyncOpenAI:
        server = await self._server.__aenter__()
        transport = DefaultAioHttpClient() if self._kind == "aiohttp" else HttpxTransport()
        base_url = server.url.rsplit("/", 1)[0]
        api = AsyncOpenAI(base_url=base_url, api_key="sk-test", http_client=transport, max_retries=0, timeout=5)
        self._opened.append(api)
        return api

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(None, None, None)


Serve = Callable[[Script], _Served]


@pytest.fixture
async def serve(transport_kind: str) -> AsyncIterator[Serve]:
    """``async with serve(script) as api``: an AsyncOpenAI (no retries) pointed at a raw server running ``script``;
    every client is closed at the end of the test."""
    opened: list[AsyncOpenAI] = []

    def make(script: Script) -> _Served:
        return _Served(script, transport_kind, opened)

    yield make
    for api in opened:
        await api.close()


async def _create(api: AsyncOpenAI, **options: object) -> object:
    async with asyncio.timeout(PATIENCE):  # a guard against hanging, not a timing assertion
        return await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, **options)  # type: ignore[call-overload]


async def _stream(api: AsyncOpenAI) -> list[object]:
    async with asyncio.timeout(PATIENCE):
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async with stream:
            return [item async for item in stream]


def _not_raw(error: BaseException) -> None:
    """The exception is the client's own, with any transport failure only as its cause."""
    assert type(error).__module__.startswith("client")
    if error.__cause__ is not None:
        assert isinstance(error.__cause__, TransportError | msgspec.DecodeError | msgspec.ValidationError)


# -- before a usable response ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\xff\xfe garbage \x89PNG\r\n\r\n", id="garbage"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: applic", id="closed-mid-headers"),
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", id="enormous-header"),
        pytest.param(b"HTTP/1.1 2OO OK\r\n\r\n", id="bad-status-line"),
        pytest.param(CHUNKED_HEAD.replace(b"event-stream", b"json") + b"zz\r\n{}\r\n0\r\n\r\n", id="bad-chunk-size"),
        pytest.param(b"", id="closed-without-answer"),
    ],
)
async def test_broken_http_is_an_api_connection_error(serve: Serve, data: bytes) -> None:
    async with serve(_answer(data)) as api:
        with pytest.raises(APIConnectionError) as caught:
            await _create(api)
        _not_raw(caught.value)
        with pytest.raises(APIConnectionError):
            await _stream(api)


# -- a response whose body is not what was asked for -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/json", b'{"id": "chatcmpl-1", "choices": [', id="invalid-json"),
        pytest.param("application/json", b"\xff\xfe\x00garbage", id="binary"),
        pytest.param("application/json", b"[1, 2, 3]", id="not-an-object"),
        pytest.param("text/html", b"<html><body>502 Bad Gateway</body></html>", id="html"),
        pytest.param("text/event-stream", _chunk_event("a") + b"data: [DONE]\n\n", id="a-stream-instead"),
    ],
)
async def test_a_200_with_an_unusable_body_is_a_validation_error(serve: Serve, content_type: str, body: bytes) -> None:
    async with serve(_keep_answering(_reply("200 OK", content_type, body))) as api:
        with pytest.raises(APIResponseValidationError) as caught:
            await _create(api)
        _not_raw(caught.value)
        assert caught.value.response.status_code == 200


async def test_error_statuses_with_unusable_bodies_keep_their_status(serve: Serve) -> None:
    script = _keep_answering(_reply("503 Service Unavailable", "text/html", b"<html>upstream down</html>"))
    async with serve(script) as api:
        with pytest.raises(InternalServerError) as caught:
            await _create(api)
        assert caught.value.status_code == 503
        assert "upstream down" in str(caught.value.body)


async def test_an_empty_404_is_a_not_found_error(serve: Serve) -> None:
    async with serve(_keep_answering(_reply("404 Not Found", "application/json", b""))) as api:
        with pytest.raises(NotFoundError):
            await _create(api)


# -- streams ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([b": keep-alive\n\n"] * 50, id="only-comments"),
        pytest.param([b"event: ping\n\n", b"id: 7\n\n", b"retry: 10\n\n"], id="only-events-without-data"),
        pytest.param([], id="empty"),
        pytest.param([b"data: " + b"x" * 2_000_000], id="enormous-unterminated-line"),
    ],
)
async def test_streams_without_an_end_are_incomplete(serve: Serve, events: list[bytes]) -> None:
    body = CHUNKED_HEAD + b"".join(chunk(event) for event in events) + b"0\r\n\r\n"
    async with serve(_keep_answering(body)) as api:
        with pytest.raises(IncompleteStreamError):
            await _stream(api)
        with pytest.raises(IncompleteStreamError):  # and again: the client is still usable
            await _stream(api)


async def test_an_enormous_event_is_read_whole(serve: Serve) -> None:
    text = "word " * 400_000  # a 2 MB line
    events = [_chunk_event(text), _chunk_event("end"), b"data: [DONE]\n\n"]
    body = CHUNKED_HEAD + b"".join(chunk(event[i : i + 8192]) for event in events for i in range(0, len(event), 8192))
    async with serve(_keep_answering(body + b"0\r\n\r\n")) as api:
        chunks = await _stream(api)
    assert [item.choices[0].delta.content for item in chunks] == [text, "end"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(b"data: \xff\xfe not utf-8\n\n", id="not-utf8"),
        pytest.param(b'data: {"id": \n\n', id="invalid-json"),
        pytest.param(b"data: [1, 2, 3]\n\n", id="wrong-shape"),
    ],
)
async def test_unusable_stream_events_are_validation_errors(serve: Serve, event: bytes) -> None:
    body = CHUNKED_HEAD + chunk(_chunk_event("ok")) + chunk(event) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
    async with serve(_keep_answering(body)) as api:
        with pytest.raises(APIResponseValidationError) as caught:
            await _stream(api)
        _not_raw(caught.value)


async def test_a_json_reply_to_a_stream_request_is_incomplete(serve: Serve) -> None:
    body = msgspec.json.encode(COMPLETION)
    async with serve(_keep_answering(_reply("200 OK", "application/json", body))) as api:
        with pytest.raises(IncompleteStreamError):
            await _stream(api)


async def test_a_stream_cut_mid_event_is_a_connection_error_and_the_client_recovers(serve: Serve) -> None:
    answers = [CHUNKED_HEAD + chunk(_chunk_event("a")) + chunk(b'data: {"id": "c", "cho'), None]

    async def cut_then_serve(conversation: Conversation) -> None:
        await conversation.read_request()
        data = answers.pop(0)
        if data is not None:
            await conversation.send(data)
            return
        await conversation.send(_reply("200 OK", "application/json", msgspec.json.encode(COMPLETION)))

    async with serve(cut_then_serve) as api:
        with pytest.raises(APIConnectionError) as caught:
            await _stream(api)
        assert not isinstance(caught.value, IncompleteStreamError)
        completion = await _create(api)
    assert completion.choices[0].message.content == "hello"  # type: ignore[attr-defined]
