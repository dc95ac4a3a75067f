from __future__ import annotations

import re
from typing import Any

import openai
import pytest
from _helpers import TRANSPORTS, post, sdk_client, stream_chunks
from openai.types import Completion

from mockserver import MockServer
from mockserver.content.tokenizer import count_tokens

MODEL = "gpt-3.5-turbo-instruct"


async def test_a_completion_has_the_legacy_shape(client: openai.AsyncOpenAI) -> None:
    completion = await client.completions.create(model=MODEL, prompt="Once upon a time")
    assert re.fullmatch(r"cmpl-[A-Za-z0-9]{29}", completion.id)
    assert completion.object == "text_completion"
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.text
    assert choice.logprobs is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_tokens("Once upon a time")
    assert completion.usage.completion_tokens == count_tokens(choice.text)
    assert completion.usage.completion_tokens <= 16


async def test_max_tokens_defaults_to_16(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.state.push_replies(" ".join(["word"] * 40))
    completion = await client.completions.create(model=MODEL, prompt="Count")
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 16


async def test_prompts_times_n_choices_in_order(client: openai.AsyncOpenAI) -> None:
    completion = await client.completions.create(model=MODEL, prompt=["First", "Second"], n=2, max_tokens=5)
    assert [choice.index for choice in completion.choices] == [0, 1, 2, 3]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_tokens("First") + count_tokens("Second")


async def test_echo_puts_the_prompt_first(client: openai.AsyncOpenAI) -> None:
    plain = await client.completions.create(model=MODEL, prompt="Say hi", max_tokens=4)
    echoed = await client.completions.create(model=MODEL, prompt="Say hi", max_tokens=4, echo=True)
    assert echoed.choices[0].text == "Say hi" + plain.choices[0].text


async def test_stop_and_logprobs(server: MockServer, client: openai.AsyncOpenAI) -> None:
    server.state.push_replies("red green blue")
    completion = await client.completions.create(model=MODEL, prompt="Colours:", stop=" blue", logprobs=2)
    choice = completion.choices[0]
    assert choice.text == "red green"
    assert choice.finish_reason == "stop"
    logprobs = choice.logprobs
    assert logprobs is not None
    assert logprobs.tokens == ["red", " green"]
    assert logprobs.text_offset == [0, 3]
    assert len(logprobs.token_logprobs or []) == 2
    for token, top in zip(logprobs.tokens, logprobs.top_logprobs or [], strict=True):
        assert len(top) == 2
        assert max(top, key=top.__getitem__) == token


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_streamed_text_equals_the_non_streamed_text(server: MockServer, transport: str) -> None:
    # Like OpenAI's, content chunks carry ``finish_reason: null``, which the SDK's ``Completion`` type does not
    # allow: strict response validation rejects every real legacy stream, so this client validates loosely.
    async with sdk_client(server, transport, strict=False, max_retries=0) as client:
        chunks, whole = await _stream_and_whole(client)
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for chunk in chunks[:-1]:
        (choice,) = chunk.choices
        texts[choice.index] = texts.get(choice.index, "") + choice.text
        if choice.finish_reason:
            finishes[choice.index] = choice.finish_reason
    assert texts == {choice.index: choice.text for choice in whole.choices}
    assert finishes == {choice.index: choice.finish_reason for choice in whole.choices}
    assert chunks[-1].choices == []
    assert chunks[-1].usage == whole.usage


async def _stream_and_whole(client: openai.AsyncOpenAI) -> tuple[list[Completion], Completion]:
    params: dict[str, Any] = {"model": MODEL, "prompt": ["One", "Two"], "max_tokens": 7, "echo": True, "logprobs": 1}
    whole = await client.completions.create(**params)
    stream = await client.completions.create(stream=True, stream_options={"include_usage": True}, **params)
    async with stream:
        return [chunk async for chunk in stream], whole


def test_raw_stream_frames_and_sdk_types(server: MockServer) -> None:
    chunks = stream_chunks(server, "/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 3})
    *content, closing = chunks
    for chunk in content:
        assert set(chunk) == {"id", "object", "created", "model", "system_fingerprint", "choices"}
        assert chunk["choices"][0]["finish_reason"] is None
        assert isinstance(chunk["choices"][0]["text"], str)
    Completion.model_validate(closing, strict=True)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"][0]["text"] == ""
    body = post(server, "/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 3}).json()
    Completion.model_validate(body, strict=True)
    assert body["choices"][0]["text"] == "".join(chunk["choices"][0]["text"] for chunk in chunks)


def test_token_array_prompts_are_accepted(server: MockServer) -> None:
    response = post(server, "/completions", {"model": MODEL, "prompt": [[1, 2, 3], [4]], "max_tokens": 2})
    assert response.status_code == 200
    assert len(response.json()["choices"]) == 2


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": MODEL}, "prompt", "missing_required_parameter"),
        ({"prompt": "x"}, "model", "missing_required_parameter"),
        ({"model": MODEL, "prompt": 5}, "prompt", "invalid_type"),
        ({"model": MODEL, "prompt": []}, "prompt", "invalid_value"),
        ({"model": MODEL, "prompt": "x", "max_tokens": -1}, "max_tokens", "invalid_value"),
        ({"model": MODEL, "prompt": "x", "logprobs": 6}, "logprobs", "invalid_value"),
        ({"model": MODEL, "prompt": "x", "n": 0}, "n", "invalid_value"),
        ({"model": MODEL, "prompt": "x", "echo": "yes"}, "echo", "invalid_type"),
        ({"model": MODEL, "prompt": "x", "stop": [1]}, "stop", "invalid_type"),
        ({"model": MODEL, "prompt": "x", "suffix": 3}, "suffix", "invalid_type"),
        ({"model": MODEL, "prompt": "x", "n": 3, "best_of": 2}, "best_of", "invalid_value"),
    ],
)
def test_bad_requests_are_400(server: MockServer, body: Any, param: str, code: str) -> None:
    response = post(server, "/completions", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


async def test_an_unknown_model_is_404(strict_models: MockServer, client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.completions.create(model="davinci-999", prompt="x")
    assert caught.value.code == "model_not_found"
