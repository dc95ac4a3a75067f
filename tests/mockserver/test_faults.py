"""Fault actions on plain (non-stream) replies, over a real socket: status, rate_limit, latency, hang, reset,
empty, and the stream-only actions' non-stream forms."""

from __future__ import annotations

import json

import httpx
import pytest
from _helpers import AUTH, TIMER_SLACK, settle

from mockserver import MockServer, ServerConfig

CHAT = "/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def test_status_sends_openai_error_body_and_retry_headers(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").fail(
        503, retry_after=2, retry_after_ms=20, should_retry=False, headers={"X-Extra": "1"}
    )
    response = root_http.get("/v1/models")
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "message": "The engine is currently overloaded, please try again later",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "20"
    assert response.headers["x-should-retry"] == "false"
    assert response.headers["x-extra"] == "1"
    assert response.headers["x-request-id"].startswith("req_")
    (entry,) = server.journal
    assert (entry.action, entry.status, entry.outcome) == ("status", 503, "completed")


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (404, "invalid_request_error", None),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (418, "invalid_request_error", None),
        (599, "server_error", None),
    ],
)
def test_every_status_gets_an_openai_shaped_body(
    server: MockServer, root_http: httpx.Client, status: int, kind: str, code: str | None
) -> None:
    server.on().fail(status)
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (kind, code, None)
    assert isinstance(error["message"], str)
    assert error["message"]


def test_status_message_and_code_can_be_custom(server: MockServer, root_http: httpx.Client) -> None:
    server.on().fail(400, message="Bad things.", code="context_length_exceeded")
    error = root_http.post(CHAT, json=CHAT_BODY).json()["error"]
    assert (error["message"], error["code"]) == ("Bad things.", "context_length_exceeded")


@pytest.mark.parametrize(("kind", "unit"), [("requests", "RPM"), ("tokens", "TPM")])
def test_rate_limit_is_a_realistic_429(server: MockServer, root_http: httpx.Client, kind: str, unit: str) -> None:
    server.on().rate_limit(kind, retry_after=0.25)
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["type"], error["code"]) == (kind, "rate_limit_exceeded")
    assert f"Rate limit reached for gpt-4o in organization org-mock on {kind} per min ({unit})" in error["message"]
    assert "Please try again in 0.25s" in error["message"]
    assert response.headers["retry-after"] == "0.25"
    assert response.headers["retry-after-ms"] == "250"
    assert response.headers[f"x-ratelimit-remaining-{kind}"] == "0"
    assert response.headers[f"x-ratelimit-reset-{kind}"] == "250ms"
    assert "x-should-retry" not in response.headers


def test_quota_is_an_insufficient_quota_429_not_to_be_retried(server: MockServer, root_http: httpx.Client) -> None:
    server.on().rate_limit("quota")
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "insufficient_quota"
    assert response.json()["error"]["type"] == "insufficient_quota"
    assert response.headers["x-should-retry"] == "false"


def test_latency_delays_a_whole_non_stream_reply(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).latency(ttft=0.03)
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == 200
    (entry,) = server.journal
    assert entry.action == "latency"
    assert entry.ended_at is not None
    assert entry.ended_at - entry.received_at >= 0.03 - TIMER_SLACK


def test_hang_answers_nothing_until_the_client_gives_up(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").hang()
    with pytest.raises(httpx.ReadTimeout):
        root_http.get("/v1/models", timeout=0.1)
    settle(server)
    (entry,) = server.journal
    assert (entry.action, entry.status, entry.bytes_sent) == ("hang", None, 0)
    assert entry.outcome == "hang_abandoned"
    assert entry.disconnect_noticed_at is not None
    assert server.stats()["in_flight"] == 0


def test_abandoned_hangs_leave_nothing_behind(server: MockServer) -> None:
    server.on(path="/v1/models").hang()
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=0.05) as client:
        for _ in range(10):
            with pytest.raises(httpx.ReadTimeout):
                client.get("/v1/models")
    settle(server)
    assert [entry.outcome for entry in server.journal] == ["hang_abandoned"] * 10
    assert server.stats() == {"open_streams": 0, "in_flight": 0, "requests": 10}
    assert server.state.stopping.waiting == 0


def test_reset_aborts_the_connection_before_any_byte(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").reset()
    with pytest.raises(httpx.ReadError, match="reset by peer"):
        root_http.get("/v1/models")
    settle(server)
    (entry,) = server.journal
    assert (entry.action, entry.status, entry.bytes_sent, entry.outcome) == ("reset", None, 0, "server_cut")


def test_empty_closes_the_connection_without_a_byte(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").empty()
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        root_http.get("/v1/models")
    settle(server)
    (entry,) = server.journal
    assert (entry.action, entry.status, entry.outcome) == ("empty", None, "server_cut")


def test_the_server_keeps_serving_after_connection_faults(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path="/v1/models").reset().times(1)
    with pytest.raises(httpx.TransportError):
        root_http.get("/v1/models")
    assert root_http.get("/v1/models").status_code == 200


def test_disconnect_cuts_a_non_stream_body_halfway(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).disconnect()
    with pytest.raises(httpx.RemoteProtocolError):
        root_http.post(CHAT, json=CHAT_BODY)
    settle(server)
    (entry,) = server.journal
    assert (entry.status, entry.outcome) == (200, "server_cut")
    assert entry.bytes_sent > 0


@pytest.mark.parametrize("kind", ["truncate", "malformed"])
def test_truncate_and_malformed_send_a_json_typed_body_that_is_not_json(
    server: MockServer, root_http: httpx.Client, kind: str
) -> None:
    getattr(server.on(path=CHAT), kind)()
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert server.journal[0].outcome == "completed"


def test_stream_error_on_a_non_stream_request_is_a_500(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).stream_error(message="went wrong", code="boom")
    response = root_http.post(CHAT, json=CHAT_BODY)
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "went wrong"
    assert response.json()["error"]["code"] == "boom"


def test_stream_faults_leave_error_replies_alone(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).disconnect()
    response = root_http.post(CHAT, json={"model": "gpt-4o"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"


def test_pass_lets_the_request_through_and_is_journaled(server: MockServer, root_http: httpx.Client) -> None:
    rule = server.on(path="/v1/models").passthrough()
    assert root_http.get("/v1/models").status_code == 200
    assert rule.call_count == 1
    assert server.journal[0].action == "pass"


def test_configured_latency_delays_every_reply_and_combines_with_faults() -> None:
    config = ServerConfig.model_validate({"latency": {"ttft": 0.02}})
    with MockServer(config) as server, httpx.Client(base_url=server.url, headers=AUTH) as client:
        server.on(path="/v1/models").fail(503).times(1)
        assert [client.get("/v1/models").status_code for _ in range(2)] == [503, 200]
        for entry in server.journal:
            assert entry.ended_at is not None
            assert entry.ended_at - entry.received_at >= 0.02 - TIMER_SLACK
