"""The retry loop: what is retried, how often, with which delays and headers; streams only before the body."""

from __future__ import annotations

import pytest
from client_fakes import FakeResponse, VirtualSleep, fake_client, json_response, sse_response
from hypothesis import given, settings
from hypothesis import strategies as st

from client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from client._retry import RetryTiming
from client._transport import TransportError, TransportTimeout
from mockserver import MockServer

MODELS = {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "openai"}]}
MESSAGES = [{"role": "user", "content": "hi"}]


def _error(status: int, **headers: str) -> FakeResponse:
    return json_response({"error": {"message": "nope", "type": "x", "param": None, "code": None}}, status, headers)


async def test_retries_retryable_statuses_then_succeeds() -> None:
    api, transport, sleep = fake_client(_error(429), _error(503), json_response(MODELS))
    async with api:
        page = await api.models.list()
    assert [model.id for model in page.data] == ["gpt-4o"]
    assert [r.headers["x-stainless-retry-count"] for r in transport.requests] == ["0", "1", "2"]
    assert sleep.delays == [0.5, 1.0]
    assert all(response.closed for response in transport.sent)


async def test_gives_up_after_max_retries_with_the_last_error() -> None:
    api, transport, sleep = fake_client(_error(500), max_retries=3)
    async with api:
        with pytest.raises(InternalServerError):
            await api.models.list()
    assert len(transport.requests) == 4
    assert sleep.delays == [0.5, 1.0, 2.0]


async def test_with_options_changes_max_retries_for_that_copy_only() -> None:
    api, transport, _ = fake_client(_error(500))
    async with api:
        with pytest.raises(InternalServerError):
            await api.with_options(max_retries=0).models.list()
        assert len(transport.requests) == 1
        with pytest.raises(InternalServerError):
            await api.models.list()
        assert len(transport.requests) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    api, transport, sleep = fake_client(_error(status))
    async with api:
        with pytest.raises(Exception, match=f"Error code: {status}"):
            await api.models.list()
    assert len(transport.requests) == 1
    assert sleep.delays == []


async def test_x_should_retry_false_stops_a_429() -> None:
    api, transport, _ = fake_client(_error(429, **{"x-should-retry": "false"}))
    async with api:
        with pytest.raises(RateLimitError):
            await api.models.list()
    assert len(transport.requests) == 1


async def test_x_should_retry_true_retries_a_400() -> None:
    api, transport, _ = fake_client(_error(400, **{"x-should-retry": "true"}), json_response(MODELS))
    async with api:
        await api.models.list()
    assert len(transport.requests) == 2


async def test_server_directed_delays() -> None:
    replies = [_error(429, **{"retry-after-ms": "5"}), _error(429, **{"retry-after": "2"}), json_response(MODELS)]
    api, _, sleep = fake_client(*replies)
    async with api:
        await api.models.list()
    assert sleep.delays == [0.005, 2.0]


async def test_retry_after_beyond_two_minutes_is_not_retried() -> None:
    api, transport, _ = fake_client(_error(429, **{"retry-after": "600"}))
    async with api:
        with pytest.raises(RateLimitError):
            await api.models.list()
    assert len(transport.requests) == 1


async def test_connection_errors_and_timeouts_are_retried() -> None:
    api, transport, sleep = fake_client(TransportError("reset"), TransportTimeout("slow"), json_response(MODELS))
    async with api:
        await api.models.list()
    assert len(transport.requests) == 3
    assert sleep.delays == [0.5, 1.0]


async def test_final_timeout_is_api_timeout_error() -> None:
    api, transport, _ = fake_client(TransportTimeout("slow"))
    async with api:
        with pytest.raises(APITimeoutError):
            await api.models.list()
    assert len(transport.requests) == 3


async def test_body_read_failure_is_retried_for_a_plain_request() -> None:
    cut = FakeResponse(200, {}, [b'{"object": "li', TransportError("cut")])
    api, transport, _ = fake_client(cut, json_response(MODELS))
    async with api:
        page = await api.models.list()
    assert len(page.data) == 1
    assert len(transport.requests) == 2
    assert cut.closed


async def test_stream_status_phase_is_retried() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
    api, transport, _ = fake_client(_error(503), sse_response([chunk]))
    async with api:
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        assert len([c async for c in stream]) == 1
    assert len(transport.requests) == 2


async def test_stream_is_never_retried_once_the_body_started() -> None:
    chunk = b'data: {"id": "c", "choices": []}\n\n'
    api, transport, sleep = fake_client(FakeResponse(200, {}, [chunk, TransportError("reset")]))
    async with api:
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        received = []

        async def consume() -> None:
            async for item in stream:
                received.append(item)

        with pytest.raises(APIConnectionError):
            await consume()
    assert len(received) == 1
    assert len(transport.requests) == 1
    assert sleep.delays == []
    assert transport.sent[0].closed


async def test_negative_max_retries_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AsyncOpenAI(api_key="sk", max_retries=-1)


async def test_server_directed_retries_against_the_server(server: MockServer) -> None:
    rule = server.on(path="/v1/chat/completions").fail(429, retry_after_ms=5).times(2)
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        completion = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert rule.call_count == 2


async def test_server_says_do_not_retry(server: MockServer) -> None:
    rule = server.on(path="/v1/chat/completions").fail(429, should_retry=False)
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        with pytest.raises(RateLimitError):
            await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert rule.call_count == 1


async def test_server_400_not_retried(server: MockServer) -> None:
    rule = server.on(path="/v1/models").fail(400)
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        with pytest.raises(BadRequestError):
            await api.models.list()
    assert rule.call_count == 1


async def test_server_streams_retried_before_the_body(server: MockServer) -> None:
    rule = server.on(path="/v1/chat/completions", stream=True).fail(500, retry_after_ms=2).times(2)
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        chunks = [chunk async for chunk in stream]
    assert chunks
    assert rule.call_count == 2


_OUTCOMES = st.sampled_from([200, 400, 404, 408, 409, 429, 500, 503, "reset", "timeout"])


@settings(max_examples=120, deadline=None)
@given(outcomes=st.lists(_OUTCOMES, min_size=1, max_size=6), max_retries=st.integers(0, 4))
async def test_attempts_follow_the_policy_for_any_outcome_sequence(outcomes: list[object], max_retries: int) -> None:
    replies: list[FakeResponse | Exception] = []
    for outcome in [*outcomes, 200]:
        if outcome == "reset":
            replies.append(TransportError("reset"))
        elif outcome == "timeout":
            replies.append(TransportTimeout("slow"))
        elif outcome == 200:
            replies.append(json_response(MODELS))
        else:
            replies.append(_error(int(str(outcome))))
    retryable = {408, 409, 429, 500, 503, "reset", "timeout"}
    expected_attempts = 1
    for outcome in [*outcomes, 200]:
        if outcome not in retryable or expected_attempts > max_retries:
            break
        expected_attempts += 1
    api, transport, sleep = fake_client(*replies, max_retries=max_retries)
    final = [*outcomes, 200][expected_attempts - 1]
    async with api:
        if final == 200:
            await api.models.list()
        else:
            with pytest.raises(APIConnectionError if final in {"reset", "timeout"} else APIStatusError):
                await api.models.list()
    assert len(transport.requests) == expected_attempts
    assert len(sleep.delays) == expected_attempts - 1
    assert [int(r.headers["x-stainless-retry-count"]) for r in transport.requests] == list(range(expected_attempts))
    assert all(response.closed for response in transport.sent)


async def test_server_hang_times_out_then_the_retry_succeeds(server: MockServer) -> None:
    rule = server.on(path="/v1/chat/completions").hang().times(1)
    sleep = VirtualSleep()
    timing = RetryTiming(sleep=sleep, random=lambda: 0.0)
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test", _retry_timing=timing) as api:
        completion = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, timeout=0.2)
        assert completion.choices[0].message.content
        server.on(path="/v1/chat/completions").hang()
        impatient = api.with_options(max_retries=1)
        with pytest.raises(APITimeoutError):
            await impatient.chat.completions.create(model="gpt-4o", messages=MESSAGES, timeout=0.05)
    assert rule.call_count == 1
    assert sleep.delays == [0.5, 0.5]
