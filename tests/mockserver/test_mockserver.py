"""MockServer, the Python handle: fluent scripting, sequences, rules as values, the journal, lifecycle."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from _helpers import AUTH

import mockserver
from mockserver import MockServer, Rule, RuleError, ServerConfig
from mockserver.faults import disconnect, fail, hang, rate_limit

CHAT = "/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def statuses(root_http: httpx.Client, count: int, path: str = "/v1/models") -> list[int]:
    return [root_http.get(path).status_code for _ in range(count)]


def test_the_package_exports_a_sorted_all() -> None:
    assert mockserver.__all__ == sorted(mockserver.__all__)
    for name in ("JournalEntry", "MockServer", "Rule", "RuleBuilder", "RuleError", "ScriptedRule"):
        assert name in mockserver.__all__


def test_fail_then_times(server: MockServer, root_http: httpx.Client) -> None:
    rule = server.on(path="/v1/models").fail(429, retry_after_ms=20).times(2)
    assert statuses(root_http, 3) == [429, 429, 200]
    assert rule.call_count == 2
    assert rule.called
    assert rule.remaining == 0
    assert [entry.status for entry in rule.calls] == [429, 429]
    assert rule.last is not None
    assert rule.last.seq == 2
    assert server.on(path="/v1/nothing").hang().last is None


def test_times_may_come_before_the_action(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").times(1).fail(500)
    assert statuses(root_http, 2) == [500, 200]


def test_match_keys_narrow_the_rule(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT, method="post", model="gpt-4", header={"X-Tenant": "blue"}).fail(503)
    assert root_http.post(CHAT, json=CHAT_BODY, headers={"X-Tenant": "blue"}).status_code == 200
    assert root_http.post(CHAT, json={**CHAT_BODY, "model": "gpt-4"}).status_code == 200
    assert root_http.post(CHAT, json={**CHAT_BODY, "model": "gpt-4"}, headers={"x-tenant": "blue"}).status_code == 503


def test_stream_match(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT, stream=True).fail(500)
    assert root_http.post(CHAT, json=CHAT_BODY).status_code == 200
    assert root_http.post(CHAT, json={**CHAT_BODY, "stream": True}).status_code == 500


def test_a_sequence_of_outcomes_then_normal_replies(server: MockServer, root_http: httpx.Client) -> None:
    rules = server.on(path="/v1/models").sequence([fail(429), 503, "ok", rate_limit("quota")])
    assert statuses(root_http, 5) == [429, 503, 200, 429, 200]
    assert [rule.call_count for rule in rules] == [1, 1, 1, 1]
    assert [entry.action for entry in server.journal] == ["status", "status", "pass", "rate_limit", None]


def test_a_bad_outcome_in_a_sequence_adds_nothing(server: MockServer) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        server.on().sequence([fail(429), "teapot"])
    assert server.rules() == []


def test_probability_is_seeded_and_replays_after_reset(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").fail(500).probability(0.5)
    first = statuses(root_http, 16)
    server.reset()
    server.on(path="/v1/models").probability(0.5).fail(500)
    assert statuses(root_http, 16) == first
    assert set(first) == {200, 500}


def test_a_removed_rule_stops_applying(server: MockServer, root_http: httpx.Client) -> None:
    rule = server.on(path="/v1/models").fail(500)
    rule.remove()
    assert statuses(root_http, 1) == [200]
    assert rule.remaining == 0


def test_add_rules_takes_values_json_and_lists(server: MockServer, root_http: httpx.Client) -> None:
    ids = server.add_rules(
        Rule(action=fail(429), times=1),
        {"action": {"type": "status", "status": 500}, "times": 1},
        [{"action": {"type": "status", "status": 503}, "times": 1, "id": "last"}],
    )
    assert ids == ["rule_1", "rule_2", "last"]
    assert statuses(root_http, 4) == [429, 500, 503, 200]


def test_add_rules_is_all_or_nothing(server: MockServer) -> None:
    with pytest.raises(RuleError, match=r"rules\.1\.action"):
        server.add_rules({"action": {"type": "hang"}}, {"action": {"type": "nope"}})
    assert server.rules() == []


def test_clear_rules_and_reset(server: MockServer, root_http: httpx.Client) -> None:
    server.on().fail(500)
    server.clear_rules()
    assert statuses(root_http, 1) == [200]
    server.on().fail(500)
    server.reset()
    assert server.rules() == []
    assert server.journal == []
    assert statuses(root_http, 1) == [200]


def test_queue_replies(server: MockServer, root_http: httpx.Client) -> None:
    server.queue_replies("scripted answer")
    body = root_http.post(CHAT, json=CHAT_BODY).json()
    assert body["choices"][0]["message"]["content"] == "scripted answer"


def test_journal_for_and_stats(server: MockServer, root_http: httpx.Client) -> None:
    root_http.get("/v1/models")
    root_http.post(CHAT, json=CHAT_BODY)
    assert [entry.path for entry in server.journal_for(path=CHAT)] == [CHAT]
    assert [entry.method for entry in server.journal_for(method="GET")] == ["GET"]
    assert server.stats() == {"open_streams": 0, "in_flight": 0, "requests": 2}


def test_config_rules_and_error_rate_come_back_after_reset() -> None:
    config = ServerConfig(rules=(Rule(action=fail(418), times=1),), error_rate=0.0)
    with MockServer(config) as server, httpx.Client(base_url=server.url, headers=AUTH) as root_http:
        assert statuses(root_http, 2) == [418, 200]
        server.reset()
        assert statuses(root_http, 2) == [418, 200]


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_stop_does_not_wait_for_a_hung_request() -> None:
    # a graceful-shutdown timeout far longer than the test: only waking the hang lets stop() return early
    server = MockServer(ServerConfig(), shutdown_timeout=30).start()
    server.on().then(hang())
    failures: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{server.base_url}/models", headers=AUTH, timeout=30)
        except httpx.TransportError as exc:
            failures.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not server.journal and time.monotonic() < deadline:
        time.sleep(0.005)
    port = server.port
    started = time.monotonic()
    server.stop()
    caller.join(10)
    assert time.monotonic() - started < 10
    assert len(failures) == 1
    (entry,) = server.journal
    assert entry.outcome == "hang_abandoned"
    assert port_is_closed(port)


def test_the_server_stops_when_the_body_raises() -> None:
    servers: list[MockServer] = []
    ports: list[int] = []

    def failing_test() -> None:
        with MockServer() as server:
            servers.append(server)
            ports.append(server.port)
            raise RuntimeError("test failed")

    with pytest.raises(RuntimeError, match="test failed"):
        failing_test()
    assert port_is_closed(ports[0])
    with pytest.raises(RuntimeError, match="not running"):
        _ = servers[0].port


async def read_all(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> list[str]:
    async with client.stream("POST", path, json=body) as response:
        return [line async for line in response.aiter_lines()]


async def test_async_context_manager_and_a_stream_cut() -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url, headers=AUTH) as client:
        server.on(path=CHAT).then(disconnect(after_events=2))
        with pytest.raises(httpx.RemoteProtocolError):
            await read_all(client, CHAT, {**CHAT_BODY, "stream": True})
        server.clear_rules()
        assert (await read_all(client, CHAT, {**CHAT_BODY, "stream": True}))[-2] == "data: [DONE]"
        port = server.port
    assert port_is_closed(port)


def test_stop_finishes_a_slow_reply_at_once_instead_of_waiting_for_it() -> None:
    server = MockServer(ServerConfig(), shutdown_timeout=30).start()
    port = server.port
    server.on(path=CHAT).latency(ttft=60)
    replies: list[httpx.Response] = []

    def call() -> None:
        replies.append(httpx.post(f"{server.base_url}/chat/completions", headers=AUTH, json=CHAT_BODY, timeout=30))

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not server.journal and time.monotonic() < deadline:
        time.sleep(0.005)
    server.stop()
    caller.join(10)
    [reply] = replies
    assert reply.json()["object"] == "chat.completion"
    (entry,) = server.journal
    assert (entry.outcome, entry.status) == ("completed", 200)
    assert port_is_closed(port)
