"""``openai.AsyncAzureOpenAI``, unmodified, against the fake on a real socket, validating every body strictly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest

from mockserver import MockServer, ServerConfig
from mockserver.azure.replies import safe_content
from mockserver.faults.rate_limits import RateLimits

SAFE_CONTENT = safe_content()

KEY = "azure-key-0123456789abcdef"
VERSION = "2024-10-21"
MESSAGES: Any = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(scope="module")
def azure_server() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=5, api_key=KEY)) as server:
        yield server


@pytest.fixture
def fake(azure_server: MockServer) -> MockServer:
    azure_server.state.config = azure_server.config
    azure_server.reset()
    return azure_server


def azure_client(server: MockServer, **kwargs: Any) -> openai.AsyncAzureOpenAI:
    options: dict[str, Any] = {
        "api_version": VERSION,
        "api_key": KEY,
        "max_retries": 0,
        "_strict_response_validation": True,
    }
    options.update(kwargs)
    return openai.AsyncAzureOpenAI(azure_endpoint=server.url, **options)


@pytest.fixture
async def azure(fake: MockServer) -> AsyncIterator[openai.AsyncAzureOpenAI]:
    async with azure_client(fake) as client:
        yield client


async def test_chat_json_carries_azure_filter_results(fake: MockServer, azure: openai.AsyncAzureOpenAI) -> None:
    completion = await azure.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    extra = completion.model_dump()
    assert extra["prompt_filter_results"] == [{"prompt_index": 0, "content_filter_results": SAFE_CONTENT}]
    assert extra["choices"][0]["content_filter_results"] == SAFE_CONTENT
    [entry] = fake.journal
    assert entry.path == "/v1/chat/completions"  # journaled, and matched by rules, as the OpenAI path
    assert entry.query == f"api-version={VERSION}"
    assert entry.headers["api-key"] == f"***{KEY[-4:]}"  # the journal keeps the last four characters of a key
    assert "authorization" not in entry.headers


async def test_chat_stream_opens_with_prompt_filter_results(azure: openai.AsyncAzureOpenAI) -> None:
    stream = await azure.chat.completions.create(model="my-gpt-4o", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    opening = chunks[0].model_dump()
    assert opening["choices"] == []
    assert opening["prompt_filter_results"][0]["content_filter_results"] == SAFE_CONTENT
    texts = [chunk for chunk in chunks[1:] if chunk.choices and chunk.choices[0].delta.content]
    assert texts
    for chunk in texts:
        assert chunk.choices[0].model_dump()["content_filter_results"] == SAFE_CONTENT
    assert chunks[-1].choices[0].finish_reason == "stop"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks[1:])
    assert text


async def test_embeddings_and_completions(azure: openai.AsyncAzureOpenAI) -> None:
    embedded = await azure.embeddings.create(model="my-embeddings", input="hello", encoding_format="float")
    assert len(embedded.data[0].embedding) == 1536
    completion = await azure.completions.create(model="my-instruct", prompt="Once", max_tokens=5)
    assert completion.choices[0].text
    assert completion.model_dump()["choices"][0]["content_filter_results"] == SAFE_CONTENT


async def test_entra_id_token_auth(fake: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)  # openai 2.x would send it beside the token
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=fake.url,
        api_version=VERSION,
        azure_ad_token_provider=lambda: KEY,
        max_retries=0,
        _strict_response_validation=True,
    ) as client:
        completion = await client.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert fake.journal[-1].headers["authorization"] == f"Bearer ***{KEY[-4:]}"
    assert "api-key" not in fake.journal[-1].headers


@pytest.mark.parametrize("credentials", [{"api_key": "wrong"}, {"azure_ad_token": "wrong"}])
async def test_wrong_credentials_are_azure_401(fake: MockServer, credentials: dict[str, str]) -> None:
    async with azure_client(fake, **{"api_key": None, **credentials}) as client:
        with pytest.raises(openai.AuthenticationError) as refused:
            await client.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
    assert refused.value.code == "401"
    assert "invalid subscription key" in refused.value.message
    assert fake.journal[-1].status == 401


async def test_unknown_api_version_is_400(fake: MockServer) -> None:
    async with azure_client(fake, api_version="2031-01-01") as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
    assert refused.value.code == "BadRequest"
    assert refused.value.body == {
        "message": "API version not supported",
        "type": "invalid_request_error",
        "param": None,
        "code": "BadRequest",
    }


async def test_missing_api_version_is_404(fake: MockServer) -> None:
    async with openai.AsyncOpenAI(base_url=f"{fake.url}/openai/deployments/d", api_key=KEY, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as refused:
            await client.chat.completions.create(model="d", messages=MESSAGES, extra_headers={"api-key": KEY})
    assert refused.value.body == {
        "message": "Resource not found",
        "type": "invalid_request_error",
        "param": None,
        "code": "404",
    }


async def test_v1_surface_needs_no_api_version(fake: MockServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{fake.url}/openai/v1/", api_key=KEY, max_retries=0, _strict_response_validation=True
    ) as client:
        completion = await client.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
        models = await client.models.list()
    assert completion.choices[0].message.content
    assert models.data
    assert fake.journal[0].path == "/v1/chat/completions"


async def test_429_is_azures_and_the_sdk_retries_it(fake: MockServer) -> None:
    fake.on(path="/v1/chat/completions", model="my-gpt-4o").fail(429, retry_after_ms=5).times(2)
    async with azure_client(fake, max_retries=2) as client:
        raw = await client.chat.completions.with_raw_response.create(model="my-gpt-4o", messages=MESSAGES)
    assert raw.parse().choices[0].message.content
    assert [entry.status for entry in fake.journal] == [429, 429, 200]
    async with azure_client(fake) as client:
        fake.on(path="/v1/chat/completions").fail(429, retry_after_ms=1500).times(1)
        with pytest.raises(openai.RateLimitError) as limited:
            await client.chat.completions.create(model="my-gpt-4o", messages=MESSAGES)
    response = limited.value.response
    assert response.headers["retry-after-ms"] == "1500"
    assert response.headers["retry-after"] == "2"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.value.code == "429"
    assert "ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21" in limited.value.message


async def test_rules_match_the_deployment_as_the_model(fake: MockServer) -> None:
    fake.on(model="blocked-deployment").fail(503).times(1)
    async with azure_client(fake, azure_deployment="blocked-deployment") as client:
        with pytest.raises(openai.InternalServerError):
            # the body says another model; Azure (and the rule) go by the deployment in the URL
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert fake.journal[-1].path == "/v1/chat/completions"


async def test_strict_models_makes_unknown_deployments_404(fake: MockServer) -> None:
    fake.state.config = fake.config.with_changes(strict_models=True)
    async with azure_client(fake) as client:
        with pytest.raises(openai.NotFoundError) as refused:
            await client.chat.completions.create(model="no-such-deployment", messages=MESSAGES)
        assert refused.value.code == "DeploymentNotFound"
        completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content


async def test_completions_stream_carries_filter_results(fake: MockServer) -> None:
    # not strict: the SDK types a completion chunk's finish_reason as never null, which OpenAI's streams send
    async with azure_client(fake, _strict_response_validation=False) as client:
        stream = await client.completions.create(model="my-instruct", prompt="Once", max_tokens=4, stream=True)
        chunks = [chunk.model_dump() async for chunk in stream]
    assert chunks[0]["choices"] == []
    assert chunks[0]["prompt_filter_results"][0]["prompt_index"] == 0
    texts = [chunk["choices"][0] for chunk in chunks[1:] if chunk["choices"] and chunk["choices"][0]["text"]]
    assert texts
    assert all(choice["content_filter_results"] == SAFE_CONTENT for choice in texts)


async def test_configured_rate_limits_answer_azures_429() -> None:
    config = ServerConfig(api_key=KEY, rate_limits=RateLimits(rpm=1))
    async with MockServer(config) as server, azure_client(server) as client:
        await client.embeddings.create(model="my-embeddings", input="x", encoding_format="float")
        with pytest.raises(openai.RateLimitError) as limited:
            await client.embeddings.create(model="my-embeddings", input="x", encoding_format="float")
    headers = limited.value.response.headers
    assert int(headers["retry-after-ms"]) > 0
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert "x-ratelimit-remaining-tokens" in headers
    assert limited.value.code == "429"
    assert "Embeddings_Create Operation under Azure OpenAI API version 2024-10-21" in limited.value.message
