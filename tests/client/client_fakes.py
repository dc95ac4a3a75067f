"""A scriptable in-memory transport for the client's unit tests: canned responses, recorded requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field

import msgspec

from client import AsyncOpenAI
from client._retry import RetryTiming
from client._transport import AsyncTransport, TransportError, TransportRequest, TransportResponse

__all__ = [
    "CountingTransport",
    "FakeResponse",
    "FakeTransport",
    "VirtualSleep",
    "fake_client",
    "json_response",
    "sse_response",
]


class _Headers(dict[str, str]):
    """Looked up case-insensitively, like every transport's headers."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())


@dataclass
class FakeResponse:
    status_code: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    #: body pieces; an exception in the list is raised when reached; ``hang`` waits forever after the pieces
    chunks: list[bytes | BaseException] = field(default_factory=list)
    hang: bool = False
    closed: bool = False
    close_calls: int = 0

    def __post_init__(self) -> None:
        self.headers = _Headers({k.lower(): v for k, v in self.headers.items()})

    async def aread(self) -> bytes:
        try:
            return b"".join([chunk async for chunk in self.aiter_bytes()])
        finally:
            await self.aclose()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                raise TransportError("response closed")
            await asyncio.sleep(0)
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
        if self.hang:
            await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True
        self.close_calls += 1


Reply = FakeResponse | BaseException


@dataclass
class FakeTransport:
    """Answers each request with the next scripted reply (the last one repeats)."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[TransportRequest] = field(default_factory=list)
    sent: list[FakeResponse] = field(default_factory=list)
    closed: bool = False
    hang_on_send: bool = False

    async def send(self, request: TransportRequest) -> TransportResponse:
        self.requests.append(request)
        if self.hang_on_send:
            await asyncio.Event().wait()
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        self.sent.append(reply)
        return reply

    async def aclose(self) -> None:
        self.closed = True


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, {"content-type": "application/json", **(headers or {})}, [msgspec.json.encode(body)])


def sse_response(events: Iterable[object], *, done: bool = True) -> FakeResponse:
    chunks = [b"data: " + msgspec.json.encode(event) + b"\n\n" for event in events]
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return FakeResponse(200, {"content-type": "text/event-stream"}, list(chunks))


@dataclass
class VirtualSleep:
    """Records the delays the retry loop asks for, without waiting."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def fake_client(
    *replies: Reply, max_retries: int = 2, **options: object
) -> tuple[AsyncOpenAI, FakeTransport, VirtualSleep]:
    transport = FakeTransport(list(replies))
    sleep = VirtualSleep()
    timing = RetryTiming(sleep=sleep, random=lambda: 0.0, now=lambda: 1_000_000.0)
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url="http://fake.test/v1",
        http_client=transport,
        max_retries=max_retries,
        _retry_timing=timing,
        **options,  # type: ignore[arg-type]
    )
    return client, transport, sleep


@dataclass
class _CountedResponse:
    inner: TransportResponse
    closed: bool = False

    @property
    def status_code(self) -> int:
        return self.inner.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.inner.headers

    async def aread(self) -> bytes:
        try:
            return await self.inner.aread()
        finally:
            self.closed = True

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self.inner.aiter_bytes()

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


@dataclass
class CountingTransport:
    """Wraps a real transport and remembers every response it handed out, to check each was released."""

    inner: AsyncTransport
    responses: list[_CountedResponse] = field(default_factory=list)

    async def send(self, request: TransportRequest) -> TransportResponse:
        response = _CountedResponse(await self.inner.send(request))
        self.responses.append(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    @property
    def unreleased(self) -> int:
        return sum(not response.closed for response in self.responses)
