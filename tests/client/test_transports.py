"""Both transports against the real mock server: status, headers, bodies read whole and incrementally."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from client._transport import AsyncTransport, Timeout, TransportRequest
from client._transports import HttpxTransport
from mockserver import MockServer

AUTH = {"Authorization": "Bearer sk-test"}


@pytest.fixture
async def transport() -> AsyncIterator[AsyncTransport]:
    transport = HttpxTransport()
    yield transport
    await transport.aclose()


def get(url: str, headers: dict[str, str] | None = None) -> TransportRequest:
    return TransportRequest("GET", url, headers if headers is not None else AUTH, None, Timeout(connect=5, read=10))


async def test_lists_models_with_a_bearer_header(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models"))
    assert response.status_code == 200
    assert response.headers["X-Request-ID"].startswith("req_")
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(await response.aread())
    assert "gpt-4o" in [model["id"] for model in body["data"]]
    await response.aclose()


async def test_missing_key_is_a_401_not_an_error(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models", headers={}))
    assert response.status_code == 401
    assert json.loads(await response.aread())["error"]["type"] == "invalid_request_error"


async def test_body_arrives_by_chunks_and_joins_to_the_whole(server: MockServer, transport: AsyncTransport) -> None:
    response = await transport.send(get(f"{server.base_url}/models/gpt-4o"))
    chunks = [chunk async for chunk in response.aiter_bytes()]
    await response.aclose()
    assert all(chunks)
    assert json.loads(b"".join(chunks))["id"] == "gpt-4o"
