"""Both transports against the real mock server, and their lifecycle: construction, closing, loop binding."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from client._transport import AsyncTransport, Timeout, TransportError, TransportRequest
from client._transports import DefaultAioHttpClient, HttpxTransport
from mockserver import MockServer

AUTH = {"Authorization": "Bearer sk-test"}
TRANSPORTS: dict[str, Callable[[], AsyncTransport]] = {"httpx": HttpxTransport, "aiohttp": DefaultAioHttpClient}


@pytest.fixture(params=sorted(TRANSPORTS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    transport = TRANSPORTS[request.param]()
    yield transport
    await transport.aclose()


def get(url: str, headers: dict[str, str] | None = None) -> TransportRequest:
    return TransportRequest("GET", url, headers if headers is not None else AUTH, None, Timeout(connect=5, read=10))


def test_both_transports_satisfy_the_protocol() -> None:
    for make in TRANSPORTS.values():
        assert isinstance(make(), AsyncTransport)


async def test_lists_models_with_a_bearer_header(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models"))
    assert response.status_code == 200
    assert response.headers["X-Request-ID"].startswith("req_")
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(await response.aread())
    assert "gpt-4o" in [model["id"] for model in body["data"]]
    await response.aclose()


async def test_missing_key_is_a_401_response_not_an_error(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models", headers={}))
    assert response.status_code == 401
    assert json.loads(await response.aread())["error"]["type"] == "invalid_request_error"


async def test_posted_content_reaches_the_server(server: MockServer, transport: AsyncTransport) -> None:
    content = json.dumps({"model": "gpt-4o"}).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    request = TransportRequest("POST", f"{server.base_url}/no-such-route", headers, content, Timeout())
    response = await transport.send(request)
    assert response.status_code == 404
    assert json.loads(await response.aread())["error"]["message"] == "Invalid URL (POST /v1/no-such-route)"


async def test_body_arrives_by_chunks_that_join_to_the_whole(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models/gpt-4o"))
    chunks = [chunk async for chunk in response.aiter_bytes()]
    await response.aclose()
    assert chunks
    assert all(chunks)
    assert json.loads(b"".join(chunks))["id"] == "gpt-4o"


async def test_many_concurrent_requests_all_succeed(server: MockServer, transport: AsyncTransport) -> None:
    async def status() -> int:
        response = await transport.send(get(f"{server.base_url}/models"))
        await response.aread()
        return response.status_code

    assert await asyncio.gather(*(status() for _ in range(50))) == [200] * 50


async def test_responses_and_transports_close_twice(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models"))
    await response.aclose()
    await response.aclose()
    await transport.aclose()
    await transport.aclose()


async def test_an_unused_transport_closes_cleanly(transport: AsyncTransport) -> None:
    await transport.aclose()


async def test_aiohttp_transport_refuses_to_send_once_closed(server: MockServer) -> None:
    transport = DefaultAioHttpClient()
    await transport.aclose()
    with pytest.raises(TransportError, match="closed"):
        await transport.send(get(f"{server.base_url}/models"))


async def test_httpx_transport_leaves_a_given_client_open(server: MockServer) -> None:
    async with httpx.AsyncClient() as client:
        transport = HttpxTransport(client)
        await transport.aclose()
        assert not client.is_closed
        response = await transport.send(get(f"{server.base_url}/models"))
        assert response.status_code == 200
        await response.aclose()


async def test_httpx_transport_closes_the_client_it_made() -> None:
    transport = HttpxTransport()
    await transport.aclose()
    assert transport.client.is_closed


def test_aiohttp_transport_is_built_in_sync_code_and_binds_to_its_first_loop(live_server: MockServer) -> None:
    transport = DefaultAioHttpClient()

    async def status() -> int:
        response = await transport.send(get(f"{live_server.base_url}/models"))
        await response.aread()
        return response.status_code

    async def status_then_close() -> int:
        try:
            return await status()
        finally:
            await transport.aclose()

    async def from_another_loop() -> None:
        with pytest.raises(TransportError, match="another event loop"):
            await status()

    with asyncio.Runner() as runner:
        try:
            assert runner.run(status()) == 200
            asyncio.run(from_another_loop())
        finally:
            assert runner.run(status_then_close()) == 200
    assert transport.is_closed


def test_aiohttp_transport_without_aiohttp_says_how_to_install_it() -> None:
    program = (
        "import sys; sys.modules['aiohttp'] = None\n"
        "from client import _transports\n"
        "try:\n"
        "    _transports.DefaultAioHttpClient()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert "pip install 'openai-async-harness[aiohttp]'" in result.stdout


def chat_request(url: str, text: str) -> TransportRequest:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "stream": True}
    headers = {**AUTH, "Content-Type": "application/json"}
    return TransportRequest("POST", f"{url}/chat/completions", headers, json.dumps(body).encode(), Timeout(read=10))


def sse_data(raw: bytes) -> list[str]:
    return [line.removeprefix("data: ") for line in raw.decode().split("\n") if line.startswith("data: ")]


async def test_streams_a_chat_completion(server: MockServer, transport: AsyncTransport) -> None:
    server.queue_replies("Streams arrive in pieces, one token at a time.")
    response = await transport.send(chat_request(server.base_url, "Tell me about streams"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    raw = b"".join([chunk async for chunk in response.aiter_bytes()])
    await response.aclose()
    events = sse_data(raw)
    assert events[-1] == "[DONE]"
    deltas = [json.loads(event)["choices"][0]["delta"].get("content") for event in events[:-1]]
    assert "".join(delta for delta in deltas if delta) == "Streams arrive in pieces, one token at a time."


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded, generously) for ``condition``, which another thread makes true."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"still waiting for {what}")


async def test_cancelled_streams_are_disconnects_to_the_server(server: MockServer, transport: AsyncTransport) -> None:
    count = 12
    server.on(path="/v1/chat/completions").latency(itl=0.01)
    server.queue_replies(*[" ".join(["word"] * 500)] * count)
    first_chunks: asyncio.Queue[None] = asyncio.Queue()

    async def read_until_cancelled() -> None:
        response = await transport.send(chat_request(server.base_url, "Tell me a long story"))
        try:
            async for _ in response.aiter_bytes():
                first_chunks.put_nowait(None)
        finally:
            await response.aclose()

    tasks = [asyncio.create_task(read_until_cancelled()) for _ in range(count)]
    for _ in range(count):
        await first_chunks.get()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await until(lambda: server.stats()["open_streams"] == 0, "the server to see every stream end")
    outcomes = [entry.outcome for entry in server.journal_for("/v1/chat/completions")]
    assert outcomes == ["client_disconnected"] * count
