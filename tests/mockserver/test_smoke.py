from __future__ import annotations

import httpx
import openai
import pytest

from mockserver import MockServer


def test_health_answers_200(server: MockServer) -> None:
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_every_response_has_openai_headers(server: MockServer) -> None:
    response = httpx.get(f"{server.base_url}/models", headers={"Authorization": "Bearer sk-test"})
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert len(response.headers["x-request-id"]) == 36
    assert response.headers["openai-version"] == "2020-10-01"
    assert int(response.headers["openai-processing-ms"]) >= 0


def test_unknown_route_is_invalid_url(server: MockServer) -> None:
    response = httpx.post(f"{server.base_url}/foo", headers={"Authorization": "Bearer sk-test"}, json={})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "Invalid URL (POST /v1/foo)", "type": "invalid_request_error", "param": None, "code": None}
    }


def test_missing_key_is_401(server: MockServer) -> None:
    response = httpx.get(f"{server.base_url}/models")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_official_sdk_lists_and_retrieves_models(strict_models: MockServer) -> None:
    server = strict_models
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="sk-test", _strict_response_validation=True
    ) as client:
        models = await client.models.list()
        assert "gpt-4o" in [m.id for m in models.data]
        model = await client.models.retrieve("gpt-4o")
        assert model.id == "gpt-4o"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("no-such-model")
