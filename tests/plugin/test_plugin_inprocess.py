"""In-process mode: httpx, httpx2, the official SDK and respx all reaching the fake's ASGI app without a socket."""

from __future__ import annotations

import os

import httpx
import openai
import pytest
import respx
from starlette.applications import Starlette

import client
from mockserver import ServerConfig, create_app
from mockserver.inprocess import (
    INPROCESS_BASE_URL,
    inprocess_httpx2_client,
    inprocess_httpx_client,
    inprocess_openai_client,
    route_to_app,
)
from mockserver.pytest_plugin import InProcessMockOpenAI

AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}


@pytest.fixture
def app() -> Starlette:
    return create_app(ServerConfig(seed=3, strict_models=True))


async def test_httpx_client_reaches_the_app(app: Starlette) -> None:
    async with inprocess_httpx_client(app, headers=AUTH) as client:
        response = await client.get("/models")
    assert response.status_code == 200
    assert str(response.request.url) == f"{INPROCESS_BASE_URL}/models"
    assert "gpt-4o" in [model["id"] for model in response.json()["data"]]


async def test_httpx2_client_reaches_the_app(app: Starlette) -> None:
    async with inprocess_httpx2_client(app, headers=AUTH) as client:
        response = await client.post("/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"


async def test_app_errors_are_responses_not_exceptions(app: Starlette) -> None:
    async with inprocess_httpx_client(app) as client:
        response = await client.get("/models")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_both_transports_share_one_app_state(app: Starlette) -> None:
    app.state.mock.push_replies("first canned", "second canned")
    async with inprocess_httpx_client(app, headers=AUTH) as one, inprocess_httpx2_client(app, headers=AUTH) as two:
        first = (await one.post("/chat/completions", json=CHAT)).json()
        second = (await two.post("/chat/completions", json=CHAT)).json()
    assert first["choices"][0]["message"]["content"] == "first canned"
    assert second["choices"][0]["message"]["content"] == "second canned"


async def test_official_sdk_in_process(app: Starlette) -> None:
    app.state.mock.push_replies("canned answer")
    async with inprocess_openai_client(app, max_retries=0) as client:
        completion = await client.chat.completions.create(**CHAT)
        assert completion.choices[0].message.content == "canned answer"
        stream = await client.chat.completions.create(**CHAT, stream=True)
        pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
        assert "".join(piece for piece in pieces if piece)
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("no-such-model")


async def test_respx_routes_the_openai_host_to_the_app(app: Starlette) -> None:
    app.state.mock.push_replies("through respx")
    with respx.mock(assert_all_called=True) as router:
        route = route_to_app(router, app)
        async with httpx.AsyncClient(base_url="https://api.openai.com/v1", headers=AUTH) as client:
            response = await client.post("/chat/completions", json=CHAT)
    assert route.call_count == 1
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "through respx"
    assert response.headers["x-request-id"].startswith("req_")


async def test_respx_route_for_another_host(app: Starlette) -> None:
    with respx.mock as router:
        route_to_app(router, app, host="llm.internal")
        async with httpx.AsyncClient() as client:
            response = await client.get("http://llm.internal:8080/v1/models", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["object"] == "list"


async def test_inprocess_fixture_shares_scripting_and_journal(mock_openai_inprocess: InProcessMockOpenAI) -> None:
    mock_openai_inprocess.on(path="/v1/chat/completions").fail(500).times(1)
    mock_openai_inprocess.queue_replies("after the failure")
    async with mock_openai_inprocess.openai_client(max_retries=0) as client:
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(**CHAT)
        completion = await client.chat.completions.create(**CHAT)
    assert completion.choices[0].message.content == "after the failure"
    assert [entry.status for entry in mock_openai_inprocess.attempts("/v1/chat/completions")] == [500, 200]
    redacted = f"Bearer ***{mock_openai_inprocess.api_key[-4:]}"  # the journal keeps the scheme and last four
    assert mock_openai_inprocess.last_headers()["authorization"] == redacted
    async with mock_openai_inprocess.httpx_client() as plain, mock_openai_inprocess.httpx2_client() as plain2:
        assert (await plain.get("/models")).status_code == 401  # no key: the fake's own 401
        assert (await plain2.get("/models")).status_code == 401
    assert mock_openai_inprocess.app is mock_openai_inprocess.server.app


async def test_respx_fixture_routes_default_httpx_clients(
    mock_openai_respx: respx.MockRouter, mock_openai_inprocess: InProcessMockOpenAI
) -> None:
    key = os.environ["OPENAI_API_KEY"]
    assert "OPENAI_BASE_URL" not in os.environ
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
        response = await client.get("https://api.openai.com/v1/models/gpt-4o")
    assert response.json()["id"] == "gpt-4o"
    assert mock_openai_respx.calls.call_count == 1
    assert mock_openai_inprocess.last_request().path == "/v1/models/gpt-4o"


async def test_respx_fixture_routes_our_httpx_client(
    mock_openai_respx: respx.MockRouter, mock_openai_inprocess: InProcessMockOpenAI
) -> None:
    mock_openai_inprocess.queue_replies("via respx", "streamed via respx")
    async with client.AsyncOpenAI(max_retries=0) as ours:  # default base URL, default (httpx) transport
        completion = await ours.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        stream = await ours.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert completion.choices[0].message.content == "via respx"
    assert "".join(piece for piece in pieces if piece) == "streamed via respx"
    assert mock_openai_respx.calls.call_count == 2
