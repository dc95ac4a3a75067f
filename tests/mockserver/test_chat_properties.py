"""Properties of the chat endpoint over arbitrary requests, against the live server.

(1) A streamed reply, reassembled, is exactly the non-streamed reply to the same request.
(2) A bad request is answered with a 4xx in OpenAI's error shape, never a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _helpers import AUTH, sse_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def http(live_server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, headers=AUTH, timeout=30) as client:
        yield client


# --- valid requests ----------------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_stops = st.sampled_from([".", " the", "e", ",", " a", "zz", "\n", '"'])
_tool_names = st.sampled_from(["lookup", "get_weather", "send_mail", "add"])
_param_schemas = st.sampled_from(
    [
        {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 0, "maximum": 9},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["n", "tags"],
            "additionalProperties": False,
        },
        {},
    ]
)
_message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "developer", "assistant"]), "content": _text}),
    st.fixed_dictionaries(
        {
            "role": st.just("user"),
            "content": st.lists(
                st.fixed_dictionaries({"type": st.just("text"), "text": _text}), min_size=1, max_size=2
            ),
        }
    ),
)


@st.composite
def chat_requests(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["gpt-4o", "gpt-4o-mini"])),
        "messages": draw(st.lists(_message, min_size=1, max_size=4)),
    }
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        body[draw(st.sampled_from(["max_tokens", "max_completion_tokens"]))] = draw(st.integers(1, 40))
    if draw(st.booleans()):
        body["stop"] = draw(_stops | st.lists(_stops, min_size=1, max_size=4))
    if draw(st.booleans()):
        body["logprobs"] = True
        body["top_logprobs"] = draw(st.integers(0, 5))
    if draw(st.booleans()):
        body["temperature"] = draw(st.floats(0, 2))
    names = draw(st.lists(_tool_names, max_size=2, unique=True))
    if names:
        body["tools"] = [
            {"type": "function", "function": {"name": name, "parameters": draw(_param_schemas)}} for name in names
        ]
        choice = draw(st.sampled_from(["auto", "none", "required", "named"]))
        body["tool_choice"] = (
            {"type": "function", "function": {"name": draw(st.sampled_from(names))}} if choice == "named" else choice
        )
    elif draw(st.booleans()):
        body["response_format"] = draw(
            st.sampled_from(
                [
                    {"type": "text"},
                    {"type": "json_object"},
                    {
                        "type": "json_schema",
                        "json_schema": {
                            "name": "answer",
                            "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                        },
                    },
                ]
            )
        )
    return body


def _reassemble(chunks: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], Any]:
    """Per choice index: content, tool calls, finish reason and logprobs, as a non-streamed choice has them."""
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    for chunk in chunks:
        if not chunk["choices"]:
            usage = chunk["usage"]
            continue
        (choice,) = chunk["choices"]
        state = choices.setdefault(
            choice["index"], {"content": None, "tool_calls": {}, "finish": None, "logprobs": None}
        )
        delta = choice["delta"]
        if delta.get("content") is not None:
            state["content"] = (state["content"] or "") + delta["content"]
        for call in delta.get("tool_calls") or []:
            slot = state["tool_calls"].setdefault(call["index"], {"id": None, "name": None, "arguments": ""})
            slot["id"] = call.get("id") or slot["id"]
            function = call.get("function") or {}
            slot["name"] = function.get("name") or slot["name"]
            slot["arguments"] += function.get("arguments") or ""
        if choice["logprobs"] is not None:
            state["logprobs"] = (state["logprobs"] or []) + choice["logprobs"]["content"]
        if choice["finish_reason"] is not None:
            assert state["finish"] is None
            state["finish"] = choice["finish_reason"]
    return choices, usage


def _from_body(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice["message"]
    calls = {
        index: {"id": call["id"], "name": call["function"]["name"], "arguments": call["function"]["arguments"]}
        for index, call in enumerate(message.get("tool_calls") or [])
    }
    logprobs = (choice["logprobs"]["content"] or None) if choice["logprobs"] else None  # no tokens, no chunks
    return {"content": message["content"], "tool_calls": calls, "finish": choice["finish_reason"], "logprobs": logprobs}


@PROPERTY_SETTINGS
@given(body=chat_requests(), include_usage=st.booleans())
def test_a_streamed_reply_reassembles_to_the_non_streamed_one(
    http: httpx.Client, body: dict[str, Any], include_usage: bool
) -> None:
    whole = http.post("/chat/completions", json=body)
    assert whole.status_code == 200, whole.text
    expected = whole.json()
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": include_usage}}
    streamed = http.post("/chat/completions", json=stream_body)
    assert streamed.status_code == 200, streamed.text
    payloads = sse_data(streamed.content)
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    choices, usage = _reassemble(chunks)
    assert sorted(choices) == [choice["index"] for choice in expected["choices"]]
    for choice in expected["choices"]:
        assert choices[choice["index"]] == _from_body(choice)
    assert usage == (expected["usage"] if include_usage else None)


# --- invalid requests ----------------------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_VALID = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
#: for each field, values OpenAI refuses
_WRONG = {
    # any model id is served unless strict_models is on (tests/mockserver/test_models_served.py)
    "model": st.none() | st.integers() | st.lists(st.text(), max_size=2) | st.just(""),
    "messages": st.just([])
    | st.text()
    | st.lists(st.integers() | st.text(), min_size=1, max_size=2)
    | st.lists(
        st.fixed_dictionaries({"role": st.text(max_size=5).filter(lambda r: r not in ("user", "system"))}),
        min_size=1,
        max_size=2,
    )
    | st.just([{"role": "tool", "content": "x"}])
    | st.just([{"role": "user", "content": [{"type": "nope"}]}])
    | st.just([{"role": "user", "content": 5}]),
    "n": st.integers(max_value=0) | st.integers(min_value=129) | st.text() | st.floats(0.1, 0.9),
    "temperature": st.floats(2.0001, 1e9) | st.floats(-1e9, -0.0001) | st.text(),
    "top_p": st.floats(1.0001, 1e9) | st.floats(-1e9, -0.0001) | st.lists(st.integers(), max_size=1),
    "presence_penalty": st.floats(2.0001, 1e6) | st.floats(-1e6, -2.0001),
    "frequency_penalty": st.floats(2.0001, 1e6) | st.floats(-1e6, -2.0001),
    "max_tokens": st.integers(max_value=0) | st.text() | st.booleans(),
    "stop": st.integers()
    | st.lists(st.text(), min_size=5, max_size=7)
    | st.lists(st.integers(), min_size=1, max_size=2),
    "top_logprobs": st.integers(21, 10**6) | st.integers(max_value=-1),
    "stream": st.text() | st.integers(),
    "stream_options": st.text() | st.integers(),
    "tools": st.text()
    | st.lists(st.integers() | st.fixed_dictionaries({"type": st.text(max_size=5)}), min_size=1, max_size=2),
    "tool_choice": st.text(max_size=6).filter(lambda c: c not in ("none", "auto", "required")) | st.integers(),
    "response_format": st.text()
    | st.fixed_dictionaries({"type": st.text(max_size=6).filter(lambda t: t not in ("text", "json_object"))}),
    "metadata": st.text() | st.dictionaries(st.text(max_size=5), st.integers(), min_size=1, max_size=2),
    "logprobs": st.text() | st.integers(),
}


@st.composite
def bad_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["field", "missing", "not_json", "not_object"]))
    if kind == "not_json":
        raw = draw(st.binary(max_size=40))
        try:
            json.loads(raw)
        except ValueError:
            return raw
        return b"{" + raw
    if kind == "not_object":
        return json.dumps(draw(_json.filter(lambda value: not isinstance(value, dict)))).encode()
    body = dict(_VALID)
    if kind == "missing":
        del body[draw(st.sampled_from(sorted(body)))]
    else:
        field = draw(st.sampled_from(sorted(_WRONG)))
        body[field] = draw(_WRONG[field])
        if field == "top_logprobs":
            body["logprobs"] = True
    return json.dumps(body).encode()


def _assert_openai_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["type"], str)


@PROPERTY_SETTINGS
@given(raw=bad_bodies(), path=st.sampled_from(["/chat/completions", "/completions"]))
def test_a_bad_request_is_a_4xx_in_openai_shape(http: httpx.Client, raw: bytes, path: str) -> None:
    if path == "/completions" and raw.startswith(b"{"):
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict) and "messages" in body:
            body.pop("messages")  # a chat body lacks 'prompt', which is itself a 400 for legacy completions
            raw = json.dumps(body).encode()
    response = http.post(path, content=raw, headers={"content-type": "application/json"})
    _assert_openai_error(response)


@PROPERTY_SETTINGS
@given(
    body=st.dictionaries(
        st.sampled_from([*_WRONG, "prompt", "echo", "suffix", "seed"]) | st.text(max_size=6), _json, max_size=6
    )
)
def test_arbitrary_objects_never_cause_a_server_error(http: httpx.Client, body: dict[str, Any]) -> None:
    for path in ("/chat/completions", "/completions"):
        response = http.post(path, json=body)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            _assert_openai_error(response)
