"""A downstream project's tests, written the way a user of the plugin would: the official ``openai`` SDK, the
``mock_openai`` fixtures, no other setup. ``pip install openai-async-harness`` registers the plugin.

The code under test is ``answer`` below (in a real project it would be imported from the application).
"""

from __future__ import annotations

import itertools

import openai
import pytest

from mockserver.pytest_plugin import InProcessMockOpenAI, MockOpenAI

CHAT = "/v1/chat/completions"


async def answer(question: str, *, stream: bool = False) -> str:
    """Application code: asks the model and returns its text. It builds its client from the environment."""
    async with openai.AsyncOpenAI() as client:
        messages = [{"role": "user", "content": question}]
        if not stream:
            completion = await client.chat.completions.create(model="gpt-4o", messages=messages)
            return completion.choices[0].message.content or ""
        pieces = []
        chunks = await client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
        async for chunk in chunks:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        return "".join(pieces)


async def test_answer_uses_the_model_reply(mock_openai: MockOpenAI) -> None:
    mock_openai.queue_replies("Paris.")
    assert await answer("Capital of France?") == "Paris."
    body = mock_openai.last_body(CHAT)
    assert body["messages"] == [{"role": "user", "content": "Capital of France?"}]
    # the journal keeps a secret's scheme and last four characters only
    assert mock_openai.last_headers(CHAT)["authorization"] == f"Bearer ***{mock_openai.api_key[-4:]}"


async def test_answer_survives_two_rate_limits(mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT).fail(429, retry_after_ms=5).times(2)
    mock_openai.queue_replies("eventually")
    assert await answer("Hi") == "eventually"
    attempts = mock_openai.attempts(CHAT)
    assert [entry.status for entry in attempts] == [429, 429, 200]
    gaps = [later.received_at - earlier.received_at for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= 0.004 for gap in gaps)  # the SDK waited the retry-after-ms it was given before each retry


async def test_streamed_answer_is_whole(mock_openai: MockOpenAI) -> None:
    mock_openai.queue_replies("A streamed reply, in several chunks.")
    assert await answer("Tell me something", stream=True) == "A streamed reply, in several chunks."
    [attempt] = mock_openai.attempts(CHAT)
    assert attempt.stream is True
    assert attempt.events_sent > 2
    assert attempt.outcome == "completed"


async def test_a_cut_stream_is_an_error_not_a_short_answer(mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT, stream=True).disconnect(after_events=2)
    with pytest.raises(openai.APIConnectionError):
        await answer("Tell me something", stream=True)
    assert mock_openai.last_request(CHAT).events_sent == 2


@pytest.mark.mock_openai(
    rules=[{"match": {"path": CHAT}, "action": {"type": "rate_limit", "kind": "quota"}}],
)
async def test_quota_errors_are_not_retried(mock_openai: MockOpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        await answer("Hi")
    assert caught.value.code == "insufficient_quota"
    assert len(mock_openai.attempts(CHAT)) == 1


@pytest.mark.mock_openai(replies=["from the marker"], seed=42)
async def test_marker_queues_replies(mock_openai: MockOpenAI) -> None:
    assert await answer("Hi") == "from the marker"


async def test_in_process_without_a_socket(mock_openai_inprocess: InProcessMockOpenAI) -> None:
    mock_openai_inprocess.queue_replies("no socket involved")
    async with mock_openai_inprocess.openai_client() as client:
        completion = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == "no socket involved"
