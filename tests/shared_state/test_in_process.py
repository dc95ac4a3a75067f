"""Scripting from Python (``MockServer``'s rules, journal, canned replies, reset) when the state is on Redis: two
in-process servers naming one Redis and prefix behave as one fake, and a server that starts later joins what is
there instead of wiping it."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import httpx
import openai
import pytest
from _redis_servers import wait_until

from mockserver import MockServer, ServerConfig, create_app

AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _chat(server: MockServer) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=CHAT, headers=AUTH, timeout=30)


def test_two_servers_on_one_namespace_are_one_fake(redis_url: str) -> None:
    config = ServerConfig(state=redis_url, seed=3)
    with MockServer(config) as first, MockServer(config) as second:
        rule = first.on(path="/v1/chat/completions").fail(500).times(1)
        assert [_chat(second).status_code, _chat(second).status_code] == [500, 200]
        assert rule.remaining == 0
        assert [call.status for call in rule.calls] == [500]
        assert [entry.status for entry in first.journal] == [500, 200]
        assert [entry.seq for entry in second.journal_for(path="/v1/chat/completions")] == [1, 2]

        second.queue_replies("from the queue")
        assert _chat(first).json()["choices"][0]["message"]["content"] == "from the queue"

        uploaded = httpx.post(
            f"{first.base_url}/files", files={"file": ("a.txt", b"abc")}, data={"purpose": "assistants"}, headers=AUTH
        ).json()
        assert httpx.get(f"{second.base_url}/files/{uploaded['id']}/content", headers=AUTH).content == b"abc"

        second.add_rules({"match": {"model": "gpt-4o"}, "action": {"type": "status", "status": 503}, "id": "later"})
        assert [active.id for active in first.rules()] == [rule.id, "later"]
        first.reset()
        assert second.rules() == []
        assert second.journal == []
        assert httpx.get(f"{second.base_url}/files/{uploaded['id']}", headers=AUTH).status_code == 404


def test_a_server_starting_later_joins_without_wiping(redis_url: str) -> None:
    rules = [{"match": {"model": "gpt-4o-mini"}, "action": {"type": "status", "status": 418}, "id": "configured"}]
    config = ServerConfig.model_validate({"state": redis_url, "rules": rules, "prepopulate": {"files": 2}})
    with MockServer(config) as first:
        first.on(model="gpt-4o").fail(500)
        files = httpx.get(f"{first.base_url}/files", headers=AUTH).json()["data"]
        assert len(files) == 2
        with MockServer(config) as later:
            assert [active.id for active in later.rules()] == ["configured", "rule_1"]
            assert _chat(later).status_code == 500
            assert httpx.get(f"{later.base_url}/files", headers=AUTH).json()["data"] == files
            later.reset()  # back to the config, for both
            assert [active.id for active in first.rules()] == ["configured"]
            assert len(httpx.get(f"{first.base_url}/files", headers=AUTH).json()["data"]) == 2


def test_a_bad_state_location_is_refused_naming_the_field() -> None:
    for bad in (
        "redis:/nohost",
        "http://127.0.0.1:6379",
        "redis://127.0.0.1:6379/zero",
        "redis://h:1/0?prefix=a b",
        "redis://h:1/0?prefix=a:b",
    ):
        with pytest.raises(ValueError, match="state"):
            ServerConfig(state=bad)
    assert "redis" not in repr(ServerConfig(state="redis://user:secret@127.0.0.1:6379/0"))


def test_an_app_in_process_serves_one_event_loop_after_another(redis_url: str) -> None:
    """An ASGI app used in process meets a new event loop per test: each loop gets its own connections to Redis,
    closed when that loop shuts down (no socket left open, no warning)."""
    app = create_app(ServerConfig(state=redis_url))

    async def one_round() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as http:
            return (await http.post("/v1/chat/completions", json=CHAT)).status_code

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert [asyncio.run(one_round()) for _ in range(3)] == [200, 200, 200]
            gc.collect()
        assert [str(warning.message) for warning in caught] == []
        assert [entry.status for entry in app.state.mock.journal.entries()] == [200, 200, 200]
    finally:
        app.state.mock.shared.close()


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_streams_cuts_and_hangs_are_journaled_alike(backend: str, redis_url: str) -> None:
    """The official SDK against a fake whose state is in memory or on Redis: a stream cut after two events, a
    canned reply streamed, a hang the client gives up on; the journal tells the same story either way."""
    config = ServerConfig(state=redis_url if backend == "redis" else "memory")
    messages: list[Any] = [{"role": "user", "content": "hi"}]
    async with MockServer(config) as server:
        server.on(path="/v1/chat/completions", stream=True).disconnect(after_events=2).times(1)
        server.on(path="/v1/models").hang().times(1)
        server.queue_replies("first", "second")
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as sdk:
            received: list[Any] = []

            async def read_stream() -> None:
                async for chunk in await sdk.chat.completions.create(model="gpt-4o", messages=messages, stream=True):
                    received.append(chunk)

            with pytest.raises(openai.APIConnectionError):
                await read_stream()
            stream = await sdk.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
            with pytest.raises(openai.APITimeoutError):
                await sdk.models.list(timeout=0.3)

        def settled() -> bool:
            return len(server.journal) == 3 and all(entry.outcome != "in_progress" for entry in server.journal)

        await asyncio.to_thread(wait_until, settled, "the hang's journal entry", bound=10)
        journal = [
            (entry.path, entry.rule_id, entry.action, entry.outcome, entry.events_sent) for entry in server.journal
        ]
    assert len(received) == 2
    assert text == "second"
    assert journal[1][4] >= 3  # role, content, finish (and [DONE])
    assert journal == [
        ("/v1/chat/completions", "rule_1", "disconnect", "server_cut", 2),
        ("/v1/chat/completions", None, None, "completed", journal[1][4]),
        ("/v1/models", "rule_2", "hang", "hang_abandoned", 0),
    ]
