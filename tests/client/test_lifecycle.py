"""Configuration from arguments and the environment, headers, copies, and closing what the client owns."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from client_fakes import FakeTransport, fake_client, json_response

import client
from client import AsyncOpenAI, DefaultAioHttpClient, DefaultAsyncHttpxClient, OpenAIError, Timeout
from mockserver import MockServer

MODELS = {"object": "list", "data": []}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def test_exports_are_sorted_and_importable() -> None:
    # ruff's order: CONSTANTS first, then the rest alphabetically
    assert client.__all__ == sorted(client.__all__, key=lambda name: (not name.isupper(), name))
    for name in client.__all__:
        assert getattr(client, name) is not None


async def test_missing_api_key_is_a_clear_error() -> None:
    with pytest.raises(OpenAIError, match="OPENAI_API_KEY"):
        AsyncOpenAI()


async def test_environment_supplies_key_base_url_org_and_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    transport = FakeTransport([json_response(MODELS)])
    async with AsyncOpenAI(http_client=transport) as api:
        assert api.api_key == "sk-env"
        assert api.base_url == "http://env.test/v1"
        await api.models.list()
    request = transport.requests[0]
    assert request.url == "http://env.test/v1/models"
    assert request.headers["authorization"] == "Bearer sk-env"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["openai-project"] == "proj-1"


async def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1")
    async with AsyncOpenAI(api_key="sk-arg", base_url="http://arg.test/v1", http_client=FakeTransport()) as api:
        assert (api.api_key, api.base_url) == ("sk-arg", "http://arg.test/v1")


async def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    async with AsyncOpenAI(http_client=FakeTransport()) as api:
        assert api.base_url == "https://api.openai.com/v1"


async def test_sdk_style_headers_and_defaults() -> None:
    api, transport, _ = fake_client(
        json_response(MODELS), default_headers={"X-Team": "a"}, default_query={"api-version": "1"}
    )
    async with api:
        await api.models.list(extra_headers={"x-team": "b"})
    headers = transport.requests[0].headers
    assert headers["user-agent"].startswith("AsyncOpenAI/Python ")
    assert headers["x-stainless-lang"] == "python"
    assert headers["x-stainless-async"] == "async:asyncio"
    assert headers["accept"] == "application/json"
    assert headers["x-team"] == "b"
    assert "content-type" not in headers
    assert transport.requests[0].url.endswith("/models?api-version=1")
    assert transport.requests[0].content is None


async def test_timeouts_client_and_per_call() -> None:
    replies = [json_response(MODELS), json_response(MODELS), json_response(MODELS)]
    api, transport, _ = fake_client(*replies, timeout=20.0)
    async with api:
        await api.models.list()
        await api.models.list(timeout=Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0))
        await api.models.list(timeout=None)
    first, second, third = (request.timeout for request in transport.requests)
    assert first == Timeout(connect=20.0, read=20.0, write=20.0, pool=20.0)
    assert second == Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0)
    assert third == Timeout(connect=None, read=None, write=None, pool=None)
    assert "x-stainless-read-timeout" not in transport.requests[2].headers
    assert AsyncOpenAI(api_key="k", http_client=FakeTransport()).timeout == Timeout(connect=5.0, read=600.0)


async def test_with_options_copies_settings_and_shares_the_transport() -> None:
    api, transport, _ = fake_client(json_response(MODELS), json_response(MODELS), default_headers={"x-a": "1"})
    async with api:
        copy = api.with_options(timeout=3.0, max_retries=5, default_headers={"x-b": "2"})
        replaced = api.copy(set_default_headers={"x-c": "3"})
        assert copy.max_retries == 5
        assert api.max_retries == 2
        await copy.models.list()
        await replaced.models.list()
        assert not copy.is_closed()
    assert copy.is_closed()
    assert transport.closed
    first, second = transport.requests
    assert (first.headers["x-a"], first.headers["x-b"], first.timeout.read) == ("1", "2", 3.0)
    assert "x-a" not in second.headers
    assert second.headers["x-c"] == "3"


async def test_close_is_idempotent_and_closed_client_refuses_requests() -> None:
    api, transport, _ = fake_client(json_response(MODELS))
    assert not api.is_closed()
    await api.close()
    await api.close()
    assert api.is_closed()
    assert transport.closed
    with pytest.raises(RuntimeError, match="closed"):
        await api.models.list()


async def test_given_httpx_client_is_used_and_closed(server: MockServer) -> None:
    http = httpx.AsyncClient()
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test", http_client=http) as api:
        page = await api.models.list()
    assert page.data
    assert http.is_closed


async def test_default_async_httpx_client_and_aiohttp(server: MockServer) -> None:
    for http_client in (DefaultAsyncHttpxClient(), DefaultAioHttpClient()):
        async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test", http_client=http_client) as api:
            completion = await api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
            stream = await api.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
            )
            chunks = [chunk async for chunk in stream]
        assert completion.choices[0].message.content
        assert chunks[0].choices[0].delta.role == "assistant"


async def test_rejects_an_unknown_http_client() -> None:
    with pytest.raises(TypeError, match="http_client"):
        AsyncOpenAI(api_key="k", http_client=object())  # type: ignore[arg-type]


async def test_embeddings_base64_by_default_decoded_to_floats(server: MockServer) -> None:
    api, transport, _ = fake_client(
        json_response(
            {
                "object": "list",
                "model": "m",
                "data": [{"object": "embedding", "index": 0, "embedding": "AACAPwAAAEAAAEBA"}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )
    )
    async with api:
        result = await api.embeddings.create(model="m", input="x")
    assert result.data[0].embedding == [1.0, 2.0, 3.0]
    assert msgspec.json.decode(transport.requests[0].content or b"")["encoding_format"] == "base64"
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as live:
        decoded = await live.embeddings.create(model="text-embedding-3-small", input="hello")
        floats = await live.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
        raw = await live.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="base64")
    assert decoded.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)
    assert isinstance(raw.data[0].embedding, str)
