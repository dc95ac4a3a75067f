"""Helpers shared by the mock server's tests: the test API key, the official SDK over either of its transports,
raw HTTP/SSE readers, and waiting for the server to settle every request."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai

from mockserver import MockServer

__all__ = ["AUTH", "TRANSPORTS", "post", "sdk_client", "settle", "sse_data", "stream_chunks"]

#: the HTTP stacks the official SDK runs on: its default one, or aiohttp (``DefaultAioHttpClient``)
TRANSPORTS = ("httpx", "aiohttp")
#: the headers of a raw request with the test API key
AUTH = {"Authorization": "Bearer sk-test"}

#: how much earlier than asked a server-side delay may end, as the journal's wall clock sees it: uvloop's timers
#: count whole milliseconds of a loop clock read once per iteration, so a sleep can return up to 1 ms early
TIMER_SLACK = 0.002


def sdk_client(
    server: MockServer, transport: str, *, strict: bool = True, max_retries: int = openai.DEFAULT_MAX_RETRIES
) -> openai.AsyncOpenAI:
    """The official async client against ``server`` over ``transport`` (any name but ``"aiohttp"`` is the SDK's
    default stack), validating bodies strictly unless told otherwise; use it with ``async with``."""
    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    return openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=max_retries,
        http_client=http_client,
        _strict_response_validation=strict,
    )


def post(server: MockServer, path: str, body: Any) -> httpx.Response:
    """A raw POST; the whole body is read."""
    return httpx.post(f"{server.base_url}{path}", json=body, headers=AUTH, timeout=10)


def settle(server: MockServer) -> None:
    """Wait until the server has settled every request (a hang-up reaches it a moment after the client's)."""
    deadline = time.monotonic() + 5
    while any(entry.outcome == "in_progress" for entry in server.journal):
        assert time.monotonic() < deadline, "requests still in progress"
        time.sleep(0.005)


def sse_data(raw: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking the framing OpenAI uses on the way."""
    assert raw.endswith(b"data: [DONE]\n\n")
    frames = raw.decode().split("\n\n")
    assert frames[-1] == ""
    payloads = []
    for frame in frames[:-1]:
        assert frame.startswith("data: ")
        assert "\n" not in frame
        payloads.append(frame[len("data: ") :])
    return payloads


def stream_chunks(server: MockServer, path: str, body: Any) -> list[dict[str, Any]]:
    """The JSON chunks of a raw streamed POST (``[DONE]`` checked and dropped)."""
    response = post(server, path, {**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_data(response.content)
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]
