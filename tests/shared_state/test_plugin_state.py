"""The pytest plugin's ``--mock-openai-state``: the session's fake keeps its state on Redis, scripted through the
usual handle, in a namespace of its own per xdist worker (``<prefix>-<worker>``)."""

from __future__ import annotations

import pytest
import redis
from _redis_servers import RedisServer

INNER = """
import httpx


def test_scripted_through_the_handle(mock_openai, mock_openai_server):
    assert mock_openai_server.state.shared is not None
    mock_openai.on(path="/v1/chat/completions").fail(503).times(1)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": "Bearer sk-inner"}
    statuses = [
        httpx.post(f"{mock_openai.base_url}/chat/completions", json=body, headers=headers).status_code
        for _ in range(2)
    ]
    assert statuses == [503, 200]
    assert [entry.status for entry in mock_openai.journal] == [503, 200]
"""


def test_the_plugin_keeps_the_fakes_state_on_redis(
    pytester: pytest.Pytester, redis_instance: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n")
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("--mock-openai-state", redis_instance.url(prefix), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mock_openai: *state on Redis"])
    client = redis.Redis(host="127.0.0.1", port=redis_instance.port, socket_timeout=5)
    try:
        assert client.llen(f"{prefix}-gw7:journal:entries") == 2
        assert client.hgetall(f"{prefix}-gw7:rules:hits") == {b"rule_1": b"1"}
        assert not client.exists(f"{prefix}:journal:entries")
    finally:
        client.close()
