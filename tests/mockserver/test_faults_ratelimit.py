"""Configured rate limits in a real server: real traffic fills the buckets, an empty bucket answers a 429 with
retry-after, and every /v1 response carries the x-ratelimit-* headers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from _helpers import AUTH

from mockserver import MockServer, RateLimits, ServerConfig
from mockserver.cli.main import _parser, build_config

CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]}
LIMIT_HEADERS = {
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
}


@pytest.fixture
def limited() -> Iterator[MockServer]:
    with MockServer(ServerConfig(rate_limits=RateLimits(rpm=3, tpm=60_000), strict_models=True)) as server:
        yield server


@pytest.fixture
def http(limited: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, headers=AUTH) as client:
        yield client


def test_the_request_bucket_empties_into_a_429(limited: MockServer, http: httpx.Client) -> None:
    answers = [http.post("/v1/chat/completions", json=CHAT_BODY) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["x-ratelimit-remaining-requests"] for answer in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert error["message"].startswith("Rate limit reached for gpt-4o in organization org-mock on requests per min")
    # one request refills in 60 / 3 = 20 s, less the moments already gone
    assert 0 < float(refused.headers["retry-after-ms"]) <= 20_000
    assert refused.headers["retry-after"] == "20"
    entry = limited.journal[-1]
    assert (entry.rule_id, entry.action, entry.status) == ("rate_limits", "rate_limit", 429)


def test_tokens_of_the_request_and_the_reply_are_counted(http: httpx.Client) -> None:
    started = time.monotonic()
    first = http.post("/v1/chat/completions", json=CHAT_BODY)
    second = http.post("/v1/chat/completions", json=CHAT_BODY)
    elapsed = time.monotonic() - started
    used_by_first = first.json()["usage"]["total_tokens"]
    used_by_second = second.json()["usage"]["total_tokens"]
    remaining = int(second.headers["x-ratelimit-remaining-tokens"])
    # the headers go out after the reply was counted: the bucket lost both exchanges' real totals (prompt and
    # completion), and refilled at most 1000 tokens a second meanwhile
    assert remaining <= 60_000 - used_by_first - used_by_second + elapsed * 1000 + 1
    assert remaining >= 60_000 - used_by_first - used_by_second - 1


def test_every_v1_response_carries_the_limit_headers(http: httpx.Client) -> None:
    answers = [
        http.get("/v1/models"),
        http.get("/v1/models/no-such-model"),
        http.get("/v1/models", headers={"Authorization": ""}),
        http.get("/v1/models", headers={"X-Mock-Fault": "503"}),
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 401, 503]
    for answer in answers:
        assert set(answer.headers) >= LIMIT_HEADERS
    assert not LIMIT_HEADERS & set(http.get("/health").headers)
    assert not LIMIT_HEADERS & set(http.get("/_mock/stats").headers)


def test_no_limits_no_headers(server: MockServer) -> None:
    response = httpx.get(f"{server.base_url}/models", headers=AUTH)
    assert not LIMIT_HEADERS & set(response.headers)


def test_rpm_flag_limits_the_server() -> None:
    config = build_config(_parser().parse_args(["serve", "--rpm", "1"]))
    with MockServer(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        assert [http.get("/models").status_code for _ in range(2)] == [200, 429]


async def test_the_sdk_sees_a_rate_limit_error_when_it_cannot_wait() -> None:
    async with (
        MockServer(ServerConfig(rate_limits=RateLimits(rpm=1))) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as client,
    ):
        await client.models.list()
        with pytest.raises(openai.RateLimitError, match="requests per min"):
            await client.models.list()
