"""Any model id is served by default, with the shape of a real reply; ``strict_models`` (config, ``--strict-models``)
restores OpenAI's 404 ``model_not_found`` for ids that are not configured."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from _helpers import AUTH

from mockserver import MockServer, ServerConfig
from mockserver.cli.main import _parser, build_config
from mockserver.endpoints.models import check_model_served, is_model_served
from mockserver.wire.errors import APIErrorResponse

NEW_MODEL = "gpt-9.9-preview-2031"
MESSAGES: Any = [{"role": "user", "content": "hi"}]


async def test_every_endpoint_serves_an_unconfigured_model(server: MockServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, _strict_response_validation=True
    ) as client:
        chat = await client.chat.completions.create(model=NEW_MODEL, messages=MESSAGES)
        stream = await client.chat.completions.create(model=NEW_MODEL, messages=MESSAGES, stream=True)
        chunks = [chunk async for chunk in stream]
        completion = await client.completions.create(model=NEW_MODEL, prompt="x")
        embedding = await client.embeddings.create(model=NEW_MODEL, input="x", encoding_format="float")
        response = await client.responses.create(model=NEW_MODEL, input="hi")
        model = await client.models.retrieve(NEW_MODEL)
        listed = [item.id for item in (await client.models.list()).data]
    assert chat.model == completion.model == embedding.model == response.model == model.id == NEW_MODEL
    assert chat.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(embedding.data[0].embedding) == 1536
    assert NEW_MODEL not in listed  # the list shows the configured models
    assert listed == list(server.config.models)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chat/completions", {"model": NEW_MODEL, "messages": MESSAGES}),
        ("/completions", {"model": NEW_MODEL, "prompt": "x"}),
        ("/embeddings", {"model": NEW_MODEL, "input": "x"}),
        ("/responses", {"model": NEW_MODEL, "input": "x"}),
    ],
)
def test_strict_models_restores_model_not_found(strict_models: MockServer, path: str, body: dict[str, Any]) -> None:
    with httpx.Client(base_url=strict_models.base_url, headers=AUTH) as http:
        refused = http.post(path, json=body)
        served = http.post(path, json={**body, "model": "gpt-4o"})
        retrieved = http.get(f"/models/{NEW_MODEL}")
    assert refused.status_code == retrieved.status_code == 404
    for error in (refused.json()["error"], retrieved.json()["error"]):
        assert (error["code"], error["param"], error["type"]) == ("model_not_found", "model", "invalid_request_error")
        assert NEW_MODEL in error["message"]
    assert served.status_code == 200


def test_strict_models_in_a_config_file_and_on_the_command_line(tmp_path: Any) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("strict_models: true\n")
    assert build_config(_parser().parse_args(["serve", "--config", str(config_file)])).strict_models
    assert build_config(_parser().parse_args(["serve", "--strict-models"])).strict_models
    assert not build_config(_parser().parse_args(["serve"])).strict_models
    assert not ServerConfig().strict_models


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "not-a-configured-model"])
def test_the_check_refuses_exactly_the_models_not_served(strict: bool, model: str) -> None:
    config = ServerConfig(strict_models=strict, models=("gpt-4o", "o1"))
    if is_model_served(config, model):
        check_model_served(config, model)
        assert not strict or model in config.models
    else:
        assert strict
        assert model not in config.models
        with pytest.raises(APIErrorResponse) as refused:
            check_model_served(config, model, quote="`")
        assert refused.value.status == 404
        assert refused.value.message == f"The model `{model}` does not exist or you do not have access to it."
