"""The ``mock_openai`` handle against the real loopback server: scripting, journal helpers, hang-ups.

The plugin is loaded in this project's own test run, so these tests use its fixtures directly.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import openai
import pytest

from mockserver.pytest_plugin import MockOpenAI

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}


async def test_fluent_rule_and_attempts(mock_openai: MockOpenAI) -> None:
    mock_openai.on(path="/v1/chat/completions").fail(429, retry_after_ms=1).times(2)
    mock_openai.queue_replies("finally")
    async with openai.AsyncOpenAI(max_retries=2) as client:
        completion = await client.chat.completions.create(**CHAT)
    assert completion.choices[0].message.content == "finally"
    attempts = mock_openai.attempts("/chat/completions", method="post")
    assert [entry.status for entry in attempts] == [429, 429, 200]
    assert [entry.headers["x-stainless-retry-count"] for entry in attempts] == ["0", "1", "2"]
    assert mock_openai.last_body("/v1/chat/completions") == CHAT
    assert mock_openai.last_headers()["authorization"] == f"Bearer ***{mock_openai.api_key[-4:]}"  # redacted
    assert mock_openai.client_disconnected("/v1/chat/completions") is False
    assert mock_openai.stats()["requests"] == 3


async def test_abandoned_stream_is_a_client_disconnect(mock_openai: MockOpenAI) -> None:
    mock_openai.on(path="/v1/chat/completions", stream=True).latency(itl=0.02)
    async with openai.AsyncOpenAI(max_retries=0) as client:
        stream = await client.chat.completions.create(**CHAT, stream=True)
        async for _chunk in stream:
            break  # leaving the loop closes the response
        await stream.close()
    await mock_openai.settled()
    assert mock_openai.client_disconnected("/v1/chat/completions") is True
    assert mock_openai.stats()["open_streams"] == 0


async def test_journal_questions_wait_for_the_answer(mock_openai: MockOpenAI) -> None:
    mock_openai.on(path="/v1/models/gpt-4o").hang()
    async with openai.AsyncOpenAI(max_retries=0) as client:
        task = asyncio.create_task(client.models.retrieve("gpt-4o"))
        while not mock_openai.attempts("/v1/models/gpt-4o"):  # noqa: ASYNC110 - the journal lives on another thread
            await asyncio.sleep(0.005)
        with pytest.raises(AssertionError, match=r"still in progress; `await mock_openai.settled\(\)`"):
            mock_openai.client_disconnected("/v1/models/gpt-4o")
        with pytest.raises(AssertionError, match=re.escape("after 0.01s: #1 GET /v1/models/gpt-4o")):
            await mock_openai.settled(within=0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await mock_openai.settled()
    assert mock_openai.client_disconnected("/v1/models/gpt-4o") is True
    assert mock_openai.last_request().outcome == "hang_abandoned"


def test_add_rules_and_clear(mock_openai: MockOpenAI) -> None:
    [rule_id] = mock_openai.add_rules({"match": {"path": "/v1/models"}, "action": {"type": "status", "status": 500}})
    assert [rule.id for rule in mock_openai.rules()] == [rule_id]
    assert httpx.get(f"{mock_openai.base_url}/models", headers={"Authorization": "Bearer sk-x"}).status_code == 500
    assert [entry.status for entry in mock_openai.journal_for("/v1/models", "GET")] == [500]
    mock_openai.clear_rules()
    assert mock_openai.rules() == []
    mock_openai.reset()
    assert mock_openai.journal == []
    assert repr(mock_openai) == f"<MockOpenAI {mock_openai.base_url}>"
