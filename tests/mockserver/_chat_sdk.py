"""Shared by the chat and completions tests: the official SDK over either of its transports, and raw helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import openai

from mockserver import MockServer

TRANSPORTS = ("httpx", "aiohttp")
HEADERS = {"Authorization": "Bearer sk-test"}


@asynccontextmanager
async def sdk_client(server: MockServer, transport: str, *, strict: bool = True) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official async client against ``server``, with strict response validation and no retries."""
    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    async with openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        http_client=http_client,
        _strict_response_validation=strict,
    ) as client:
        yield client


def post(server: MockServer, path: str, body: Any) -> httpx.Response:
    """A raw POST; the whole body is read."""
    return httpx.post(f"{server.base_url}{path}", json=body, headers=HEADERS, timeout=10)


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
