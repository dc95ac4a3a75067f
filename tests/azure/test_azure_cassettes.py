"""Cassettes match an Azure deployment the way they match a model: ``AsyncAzureOpenAI`` recorded through the
proxy from a loopback upstream replays, with the upstream gone, the same objects and stream events; a request for
another deployment is not answered from the cassette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from mockserver import MockServer, ServerConfig
from mockserver.recording import RecordingSettings, Upstream

VERSION = "2024-10-21"
UPSTREAM_KEY = "sk-azure-upstream-0123456789"
MESSAGES: list[Any] = [{"role": "user", "content": "Say something recorded from Azure."}]


def azure(server: MockServer) -> openai.AsyncAzureOpenAI:
    return openai.AsyncAzureOpenAI(
        azure_endpoint=server.url, api_version=VERSION, api_key="local-azure-key", max_retries=0
    )


async def deployment_calls(client: openai.AsyncAzureOpenAI, deployment: str) -> list[Any]:
    completion = await client.chat.completions.create(model=deployment, messages=MESSAGES)
    stream = await client.chat.completions.create(model=deployment, messages=MESSAGES, stream=True)
    chunks = [chunk.model_dump() async for chunk in stream]
    return [completion.model_dump(), chunks]


async def test_an_azure_deployment_replays_what_was_recorded_and_only_for_that_deployment(tmp_path: Path) -> None:
    cassette = tmp_path / "azure.yaml"
    with MockServer(ServerConfig(seed=11, api_key=UPSTREAM_KEY)) as upstream:
        forwarded = Upstream(url=upstream.base_url, key=UPSTREAM_KEY)
        recording = RecordingSettings(unmatched="upstream", upstream=forwarded, record_to=cassette)
        with MockServer(ServerConfig(seed=3, recording=recording)) as proxy:
            async with azure(proxy) as client:
                recorded = await deployment_calls(client, "my-gpt-4o")
    assert cassette.exists()
    assert UPSTREAM_KEY not in cassette.read_text(encoding="utf-8")

    with MockServer(ServerConfig(seed=3, recording=RecordingSettings(cassettes=(cassette,), replay_speed=0))) as replay:
        async with azure(replay) as client:
            assert await deployment_calls(client, "my-gpt-4o") == recorded
            with pytest.raises(openai.BadRequestError) as missed:  # another deployment is another request
                await client.chat.completions.create(model="other-deployment", messages=MESSAGES)
    assert "my-gpt-4o" in missed.value.message
