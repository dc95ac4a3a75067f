"""Streaming chat clients for benchmarks, each timing when every event reaches the caller.

``aiohttp`` (a C parser, the leanest: it measures the server more than itself), ``httpx`` (raw streaming),
``openai`` (the official SDK on its default transport) and ``openai-aiohttp`` (the SDK on its aiohttp
transport). The SDK clients time each parsed chunk as the caller's ``async for`` receives it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import openai

__all__ = ["CLIENTS", "StreamFailed", "StreamOnce", "StreamTiming", "open_stream_client"]

CLIENTS = ("aiohttp", "httpx", "openai", "openai-aiohttp")

_API_KEY = "sk-bench"


class StreamFailed(Exception):
    """A stream that did not complete: an error status, a transport error, or no events at all."""


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """One stream as the client saw it: seconds to the first event and between consecutive events."""

    ttft: float
    gaps: tuple[float, ...]

    @classmethod
    def from_arrivals(cls, start: float, arrivals: list[float]) -> StreamTiming:
        if not arrivals:
            raise StreamFailed("a stream ended without events")
        gaps = tuple(later - earlier for earlier, later in itertools.pairwise(arrivals))
        return cls(arrivals[0] - start, gaps)


#: sends one streaming chat request (the JSON body) and times its events
StreamOnce = Callable[[dict[str, Any]], Awaitable[StreamTiming]]


def _is_event(line: str) -> bool:
    return line.startswith("data:") and line.strip() != "data: [DONE]"


@asynccontextmanager
async def _aiohttp(root: str, concurrency: int) -> AsyncIterator[StreamOnce]:
    url = f"{root}/v1/chat/completions"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": f"Bearer {_API_KEY}"}) as session:

        async def stream_once(body: dict[str, Any]) -> StreamTiming:
            arrivals: list[float] = []
            start = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    if response.status != 200:
                        raise StreamFailed(f"status {response.status}: {await response.text()}")
                    async for line in response.content:
                        if _is_event(line.decode()):
                            arrivals.append(time.perf_counter())
            except aiohttp.ClientError as exc:
                raise StreamFailed(f"{type(exc).__name__}: {exc}") from exc
            return StreamTiming.from_arrivals(start, arrivals)

        yield stream_once


@asynccontextmanager
async def _httpx(root: str, concurrency: int) -> AsyncIterator[StreamOnce]:
    url = f"{root}/v1/chat/completions"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {_API_KEY}"}
    async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as client:

        async def stream_once(body: dict[str, Any]) -> StreamTiming:
            arrivals: list[float] = []
            start = time.perf_counter()
            try:
                async with client.stream("POST", url, json=body) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise StreamFailed(f"status {response.status_code}: {response.text}")
                    async for line in response.aiter_lines():
                        if _is_event(line):
                            arrivals.append(time.perf_counter())
            except httpx.TransportError as exc:
                raise StreamFailed(f"{type(exc).__name__}: {exc}") from exc
            return StreamTiming.from_arrivals(start, arrivals)

        yield stream_once


@asynccontextmanager
async def _openai(root: str, concurrency: int, *, aiohttp_transport: bool) -> AsyncIterator[StreamOnce]:
    http_client = openai.DefaultAioHttpClient() if aiohttp_transport else None
    async with openai.AsyncOpenAI(
        base_url=f"{root}/v1", api_key=_API_KEY, max_retries=0, timeout=60, http_client=http_client
    ) as client:

        async def stream_once(body: dict[str, Any]) -> StreamTiming:
            arrivals: list[float] = []
            start = time.perf_counter()
            try:
                stream = await client.chat.completions.create(**{**body, "stream": True})
                async with stream:
                    async for _chunk in stream:
                        arrivals.append(time.perf_counter())
            except openai.APIError as exc:
                raise StreamFailed(f"{type(exc).__name__}: {exc}") from exc
            return StreamTiming.from_arrivals(start, arrivals)

        yield stream_once


@asynccontextmanager
async def open_stream_client(kind: str, root: str, concurrency: int) -> AsyncIterator[StreamOnce]:
    """A ``StreamOnce`` for the server at ``root`` (no ``/v1``) that keeps up to ``concurrency`` connections."""
    if kind == "aiohttp":
        opened = _aiohttp(root, concurrency)
    elif kind == "httpx":
        opened = _httpx(root, concurrency)
    elif kind in ("openai", "openai-aiohttp"):
        opened = _openai(root, concurrency, aiohttp_transport=kind == "openai-aiohttp")
    else:
        raise ValueError(f"unknown client {kind!r}; expected one of: {', '.join(CLIENTS)}")
    async with opened as stream_once:
        yield stream_once
