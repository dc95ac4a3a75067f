"""Hostile servers, on both transports, over real loopback connections (tests/client/raw_http_server.py): a 50 MB SSE
line decoded in well under a second of CPU, an event past the client's cap is an ``APIError``, JSON nested 200 000
deep is an ``APIError`` (never a raw ``RecursionError``), and the API key appears in no ``repr`` / ``str`` of any
request, response or exception the client produces, nor in any local variable of their tracebacks (what pytest
``-l`` or an error tracker shows)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from _pytest._code import ExceptionInfo
from raw_http_server import CHUNKED_HEAD, PATIENCE, Conversation, Script, chunk, hang_forever, raw_server

from client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    DefaultAioHttpClient,
    HttpxTransport,
    IncompleteStreamError,
    Timeout,
)
from mockserver import MockServer

#: the key every client here uses; no repr, str or traceback local may contain it
SECRET = "sk-proj-SECRET0123456789abcdef"
MESSAGES = [{"role": "user", "content": "hi"}]
#: CPU seconds the client may spend decoding a 50 MB line (the quadratic decoder took 43 s)
LINE_CPU_BOUND = 1.0


def _chunk_event(content: str) -> bytes:
    payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}  # fmt: skip
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def _reply(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _sse(*events: bytes) -> bytes:
    return _reply("200 OK", "text/event-stream", b"".join(events))


def _keep_answering(data: bytes) -> Script:
    async def script(conversation: Conversation) -> None:
        while await conversation.read_request() is not None:
            await conversation.send(data)

    return script


@pytest.fixture(params=["httpx", "aiohttp"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Serve = Callable[..., Any]


@pytest.fixture
async def serve(transport_kind: str) -> AsyncIterator[Callable[[Script], Any]]:
    """``async with serve(script) as api``: our client (no retries, the secret key) against a raw server."""
    opened: list[AsyncOpenAI] = []

    class Served:
        def __init__(self, script: Script, **options: Any) -> None:
            self._server = raw_server(script)
            self._options = options

        async def __aenter__(self) -> AsyncOpenAI:
            server = await self._server.__aenter__()
            transport = DefaultAioHttpClient() if transport_kind == "aiohttp" else HttpxTransport()
            options = {"max_retries": 0, "timeout": 5, **self._options}
            api = AsyncOpenAI(base_url=server.url.rsplit("/", 1)[0], api_key=SECRET, http_client=transport, **options)
            opened.append(api)
            return api

        async def __aexit__(self, *exc: object) -> None:
            await self._server.__aexit__(None, None, None)

    yield Served
    for api in opened:
        await api.close()


async def _stream(api: AsyncOpenAI) -> list[Any]:
    async with asyncio.timeout(PATIENCE):
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async with stream:
            return [item async for item in stream]


async def _read_into(stream: Any, received: list[Any]) -> None:
    async with asyncio.timeout(PATIENCE), stream:
        async for item in stream:
            received.append(item)


async def _create(api: AsyncOpenAI) -> Any:
    async with asyncio.timeout(PATIENCE):
        return await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)


# -- a 50 MB line, the event cap, deep JSON ---------------------------------------------------------------------


async def test_a_50_mb_sse_line_is_decoded_in_well_under_a_second(serve: Serve) -> None:
    text = "x" * (50 * 1024 * 1024)
    body = CHUNKED_HEAD + chunk(_chunk_event(text)) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
    async with serve(_keep_answering(body)) as api:
        cpu_started, started = time.thread_time(), time.monotonic()
        items = await _stream(api)
        cpu, wall = time.thread_time() - cpu_started, time.monotonic() - started
    assert len(items) == 1
    assert items[0].choices[0].delta.content == text
    # CPU of the loop's thread (the client and the in-loop server writing 50 MB): a loaded machine stretches the
    # wall time, not this
    assert cpu < LINE_CPU_BOUND, f"the 50 MB line took {cpu:.2f} s of CPU ({wall:.2f} s wall)"


async def test_an_event_past_the_cap_is_an_api_error_and_ends_the_stream(serve: Serve) -> None:
    big = _chunk_event("y" * 300_000)
    body = CHUNKED_HEAD + chunk(_chunk_event("ok"))
    body += b"".join(chunk(big[i : i + 4096]) for i in range(0, len(big), 4096)) + chunk(b"data: [DONE]\n\n")
    async with serve(_keep_answering(body + b"0\r\n\r\n"), max_stream_event_bytes=100_000) as api:
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        received: list[Any] = []
        with pytest.raises(APIError) as raised:
            await _read_into(stream, received)
        assert type(raised.value) is APIError
        assert "larger than 100000 bytes" in raised.value.message
        assert [item.choices[0].delta.content for item in received] == ["ok"]
        assert api.with_options().max_stream_event_bytes == 100_000  # copies keep the cap


def test_the_event_cap_must_be_positive() -> None:
    for wrong in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="max_stream_event_bytes"):
            AsyncOpenAI(api_key=SECRET, max_stream_event_bytes=wrong)  # type: ignore[arg-type]


#: JSON nested 200 000 deep, in a field the typed decoders skip (and the generic one decodes)
NESTED = b"[" * 200_000 + b"]" * 200_000
DEEP = b'{"x_extra": ' + NESTED + b"}"


async def test_deep_json_in_a_stream_event_is_an_api_error(serve: Serve) -> None:
    async with serve(_keep_answering(_sse(b"data: " + DEEP + b"\n\n", b"data: [DONE]\n\n"))) as api:
        with pytest.raises(APIResponseValidationError, match="recursion"):
            await _stream(api)


async def test_deep_json_in_a_body_is_an_api_error(serve: Serve) -> None:
    async with serve(_keep_answering(_reply("200 OK", "application/json", DEEP))) as api:
        with pytest.raises(APIResponseValidationError, match="recursion"):
            await _create(api)


async def test_deep_json_in_an_error_body_keeps_its_status(serve: Serve) -> None:
    async with serve(_keep_answering(_reply("400 Bad Request", "application/json", DEEP))) as api:
        with pytest.raises(APIStatusError) as raised:
            await _create(api)
    assert raised.value.status_code == 400
    assert raised.value.body == DEEP.decode()


async def test_deep_json_in_an_error_event_is_an_api_error(serve: Serve) -> None:
    deep_error = b'{"type": "error", "error": ' + NESTED + b"}"
    async with serve(_keep_answering(_sse(b"event: error\ndata: " + deep_error + b"\n\n"))) as api:
        stream = await api.responses.create(model="gpt-4o", input="hi", stream=True)
        with pytest.raises(APIError):
            await _read_into(stream, [])


# -- no secret in any repr -------------------------------------------------------------------------------------


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
    return seen


def _everything_shown(error: BaseException) -> str:
    """What a log, an error tracker or pytest ``-l`` can show of ``error``: its str and repr, its request, response
    and body, every exception in its chain, and every local variable of every frame of their tracebacks."""
    shown = [ExceptionInfo.from_exception(error).getrepr(showlocals=True, style="long", chain=True).__str__()]
    for linked in _chain(error):
        shown += [str(linked), repr(linked), repr(vars(linked))]
        for name in ("request", "response", "body"):
            if hasattr(linked, name):
                shown += [repr(getattr(linked, name)), str(getattr(linked, name))]
        for frame, _ in traceback.walk_tb(linked.__traceback__):
            shown += [f"{name}={value!r}" for name, value in frame.f_locals.items()]
    return "\n".join(shown)


async def _expect_error(action: Awaitable[Any]) -> BaseException:
    try:
        async with asyncio.timeout(PATIENCE):
            await action
    except Exception as error:  # every error the client raises is checked
        return error
    raise AssertionError("the call did not fail")


def _status_script(status: str) -> Script:
    body = msgspec.json.encode({"error": {"message": "no", "type": "x", "param": None, "code": None}})
    return _keep_answering(_reply(status, "application/json", body))


async def _silent(conversation: Conversation) -> None:
    await conversation.read_request()
    await hang_forever()


SCENARIOS: dict[str, tuple[Script, Callable[[AsyncOpenAI], Awaitable[Any]], type[Exception]]] = {
    "status-400": (_status_script("400 Bad Request"), _create, APIStatusError),
    "status-401": (_status_script("401 Unauthorized"), _create, APIStatusError),
    "status-429": (_status_script("429 Too Many Requests"), _create, APIStatusError),
    "status-500": (_status_script("500 Internal Server Error"), _create, APIStatusError),
    "invalid-body": (_keep_answering(_reply("200 OK", "application/json", b"{not json")), _create, APIError),
    "deep-body": (_keep_answering(_reply("200 OK", "application/json", DEEP)), _create, APIError),
    "garbage": (_keep_answering(b"\x00\xff garbage\r\n\r\n"), _create, APIConnectionError),
    "read-timeout": (_silent, _create, APITimeoutError),
    "stream-error-event": (
        _keep_answering(_sse(b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n')),
        _stream,
        APIError,
    ),
    "stream-incomplete": (_keep_answering(_sse(_chunk_event("a"))), _stream, IncompleteStreamError),
    "stream-invalid-event": (_keep_answering(_sse(b"data: [1, 2]\n\n")), _stream, APIResponseValidationError),
    "stream-too-large": (_keep_answering(_sse(_chunk_event("z" * 5000), b"data: [DONE]\n\n")), _stream, APIError),
}
#: options of the client per scenario (beyond a 0.3 s read timeout)
_OPTIONS: dict[str, dict[str, Any]] = {"stream-too-large": {"max_stream_event_bytes": 1000}}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_no_error_shows_the_api_key(serve: Serve, scenario: str) -> None:
    script, call, expected = SCENARIOS[scenario]
    async with serve(script, timeout=Timeout(5, read=0.3), **_OPTIONS.get(scenario, {})) as api:
        error = await _expect_error(call(api))
    assert isinstance(error, expected), repr(error)
    assert SECRET not in _everything_shown(error)
    assert "[secure]" in repr(error.request.headers)  # type: ignore[attr-defined]
    assert error.request.headers["authorization"] == f"Bearer {SECRET}"  # type: ignore[attr-defined]


async def test_a_refused_connection_shows_no_key(transport_kind: str) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    transport = DefaultAioHttpClient() if transport_kind == "aiohttp" else HttpxTransport()
    async with AsyncOpenAI(
        api_key=SECRET, base_url=f"http://127.0.0.1:{port}/v1", http_client=transport, max_retries=0
    ) as api:
        error = await _expect_error(_create(api))
    assert isinstance(error, APIConnectionError)
    assert SECRET not in _everything_shown(error)


async def test_responses_and_streams_show_no_key(server: MockServer, transport_kind: str) -> None:
    transport = DefaultAioHttpClient() if transport_kind == "aiohttp" else HttpxTransport()
    async with AsyncOpenAI(api_key=SECRET, base_url=server.base_url, http_client=transport, max_retries=0) as api:
        completion = await _create(api)
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async with stream:
            shown = [repr(stream), repr(stream.response), repr(vars(stream)) if hasattr(stream, "__dict__") else ""]
            shown += [repr(item) async for item in stream]
        shown += [repr(completion), repr(api._requester.settings), repr(api.default_headers)]
    assert not [text for text in shown if SECRET in text]


# -- uploads read files off the loop ---------------------------------------------------------------------------


class _RecordingFile:
    """A binary file object that notes which thread reads it."""

    name = "notes.jsonl"

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_in: list[threading.Thread] = []

    def read(self, size: int = -1) -> bytes:
        self.read_in.append(threading.current_thread())
        return self.data


async def test_uploads_read_files_in_a_worker_thread(server: MockServer, tmp_path: Path) -> None:
    line = b'{"prompt": "hi", "completion": "there"}\n'
    path = tmp_path / "train.jsonl"
    path.write_bytes(line)
    recording = _RecordingFile(line)
    async with AsyncOpenAI(api_key=SECRET, base_url=server.base_url, max_retries=0) as api:
        from_path = await api.files.create(file=path, purpose="fine-tune")
        from_object = await api.files.create(file=recording, purpose="fine-tune")  # type: ignore[arg-type]
    assert (from_path.filename, from_path.bytes) == ("train.jsonl", len(line))
    assert (from_object.filename, from_object.bytes) == ("notes.jsonl", len(line))
    assert recording.read_in
    assert threading.main_thread() not in recording.read_in
    assert threading.current_thread() not in recording.read_in
