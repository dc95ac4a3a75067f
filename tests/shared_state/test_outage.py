"""A Redis that goes away: requests (API and control) answer 503 in OpenAI's shape within a bound, ``/health``
says ``degraded``; once Redis is back on its port, the server reconnects by itself and carries on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from _redis_servers import AUTH, RedisServer, Serving, redis_server, serving, wait_until

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
#: the longest a request may take to be refused while Redis is away (the timeouts are 0.5 s to connect and 2 s to
#: read; this leaves room for a loaded machine)
REFUSED_WITHIN = 10.0


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def fake(own_redis: RedisServer) -> Iterator[Serving]:
    with serving("--rpm", "1000", workers=2, redis_url=own_redis.url("outage")) as running:
        yield running


def _timed(http: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    reply = http.request(method, path, **kwargs)  # type: ignore[arg-type]
    return reply, time.monotonic() - started


def test_redis_away_gives_503s_and_degraded_health_then_recovers(own_redis: RedisServer, fake: Serving) -> None:
    with httpx.Client(base_url=fake.root, headers={**AUTH, "Connection": "close"}, timeout=60) as http:
        assert http.post("/v1/chat/completions", json=CHAT).status_code == 200
        uploaded = http.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "assistants"})
        assert uploaded.status_code == 200
        own_redis.stop()

        for method, path, body in [
            ("POST", "/v1/chat/completions", CHAT),
            ("POST", "/v1/chat/completions", CHAT),
            ("GET", "/v1/models", None),
            ("GET", f"/v1/files/{uploaded.json()['id']}", None),
            ("GET", "/_mock/journal", None),
            ("POST", "/_mock/rules", {"action": {"type": "status", "status": 500}}),
        ]:
            reply, took = _timed(http, method, path, json=body)
            assert took < REFUSED_WITHIN, (path, took)
            assert reply.status_code == 503, (path, reply.text)
            error = reply.json()["error"]
            assert (error["type"], error["param"], error["code"]) == ("server_error", None, "state_unavailable")
            assert error["message"]
        health, took = _timed(http, "GET", "/health")
        assert took < REFUSED_WITHIN
        assert (health.status_code, health.json()["status"]) == (503, "degraded")

        own_redis.start()  # the same port, empty (no persistence)

        def recovered() -> bool:
            return http.get("/health").status_code == 200 and all(
                http.post("/v1/chat/completions", json=CHAT).status_code == 200 for _ in range(4)
            )

        wait_until(recovered, "the fake to carry on once Redis is back", bound=30)
        assert http.get("/health").json() == {"status": "ok"}
        assert http.post("/_mock/rules", json={"action": {"type": "status", "status": 418}}).status_code == 200
        assert http.post("/v1/chat/completions", json=CHAT).status_code == 418
