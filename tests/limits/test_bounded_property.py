"""The fake is bounded by design: for any chat, Responses or legacy completions request - arbitrary tool and JSON
schemas (deep, wide, with huge ``minItems``, ``minLength`` and ``required``), ``n`` up to 128, streamed or not - a
real ``mockserver serve`` process answers with a 200 within the output limit or OpenAI's 400, its peak memory stays
within a budget over its idle size, and ``/health`` keeps answering throughout.

The server runs with a small output limit (:data:`LIMIT` tokens), so each example stays cheap; the default limits
are exercised by the attack tests. ``LIMITS_PROPERTY_EXAMPLES`` changes the example count (CI: the default).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _limits_process import AUTH, ServerProcess, environment_note, health_probe, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.content.tokenizer import count_tokens

MB = 1024 * 1024
#: every model's output limit in this server (tokens per choice)
LIMIT = 512
#: what the server may grow by over its idle size, at its peak, over the whole property
MEMORY_BUDGET = 300 * MB
#: /health: most probes answer within this (on a loaded 2-core machine a rare probe may be late: see the test)
HEALTH_BOUND = 0.050
EXAMPLES = int(os.environ.get("LIMITS_PROPERTY_EXAMPLES", "60"))

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_sizes = st.one_of(st.integers(0, 4), st.integers(0, 10**6))
_leaves = st.one_of(
    st.builds(lambda low: {"type": "string", "minLength": low}, _sizes),
    st.builds(lambda low: {"type": "string", "minLength": low, "maxLength": low + 3}, st.integers(0, 300)),
    st.just({"type": "integer", "minimum": -(10**30), "maximum": 10**30}),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.just({"type": "string", "format": "date-time"}),
    st.builds(lambda values: {"enum": values}, st.lists(st.integers(), min_size=1, max_size=5)),
)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    arrays = st.builds(lambda item, low: {"type": "array", "items": item, "minItems": low}, children, _sizes)
    objects = st.builds(
        lambda properties, extra: {
            "type": "object",
            "properties": properties,
            "required": [*properties, *extra],
            "additionalProperties": False,
        },
        st.dictionaries(_names, children, max_size=4),
        st.lists(_names, max_size=3),
    )
    choices = st.builds(lambda options: {"anyOf": options}, st.lists(children, min_size=1, max_size=3))
    return st.one_of(arrays, objects, choices)


_nested = st.recursive(_leaves, _extend, max_leaves=6)


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    """A nested schema, sometimes inside a wide object (thousands of required properties) or a deep chain."""
    schema = draw(_nested)
    shape = draw(st.sampled_from(["nested", "wide", "deep"]))
    if shape == "wide":
        width = draw(st.integers(1, 6000))  # past 5000 properties the API refuses it
        leaf = draw(_leaves)
        properties = {f"p{index}": leaf for index in range(width)}
        properties["nested"] = schema
        return {"type": "object", "properties": properties, "required": list(properties)}
    if shape == "deep":
        for _ in range(draw(st.integers(1, 12))):  # past 10 levels the API refuses it
            schema = {"type": "object", "properties": {"x": schema}, "required": ["x"]}
        return schema
    return {"type": "object", "properties": {"value": schema}, "required": ["value"]}


_max_tokens = st.one_of(st.none(), st.integers(1, 600))


@st.composite
def chat_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "n": draw(st.integers(1, 128)),
        "stream": draw(st.booleans()),
    }
    if draw(st.booleans()):
        tools = draw(st.lists(schemas(), min_size=1, max_size=3))
        body["tools"] = [
            {"type": "function", "function": {"name": f"tool_{index}", "parameters": parameters}}
            for index, parameters in enumerate(tools)
        ]
        body["tool_choice"] = "required"
    else:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "out", "schema": draw(schemas())}}
    max_tokens = draw(_max_tokens)
    if max_tokens is not None:
        body[draw(st.sampled_from(["max_tokens", "max_completion_tokens"]))] = max_tokens
    return "/v1/chat/completions", body


@st.composite
def responses_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {"model": "gpt-4o", "input": "hi", "stream": draw(st.booleans()), "store": False}
    if draw(st.booleans()):
        body["tools"] = [{"type": "function", "name": "tool", "parameters": draw(schemas())}]
        body["tool_choice"] = "required"
    else:
        body["text"] = {"format": {"type": "json_schema", "name": "out", "schema": draw(schemas())}}
    max_tokens = draw(_max_tokens)
    if max_tokens is not None:
        body["max_output_tokens"] = max(16, max_tokens)
    return "/v1/responses", body


@st.composite
def completions_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    prompts = draw(st.integers(1, 2100))  # past 2048 prompts the API refuses them
    body: dict[str, Any] = {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["say something"] * prompts if prompts > 1 else "say something",
        "n": draw(st.integers(1, 128)),
        "stream": draw(st.booleans()),
        "echo": draw(st.booleans()),
    }
    max_tokens = draw(_max_tokens)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return "/v1/completions", body


requests = st.one_of(chat_requests(), responses_requests(), completions_requests())


@pytest.fixture(scope="module")
def bounded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    limits = {"output_token_limits": {"gpt-4o": LIMIT, "gpt-3.5-turbo-instruct": LIMIT}}
    # mode echo answers completions with their prompt: replies as long as the limit allows
    with serve(tmp_path_factory.mktemp("bounded"), {**limits, "mode": "echo"}) as server:
        yield server


def _read(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """The status and the JSON body, or the list of JSON events of a stream."""
    with client.stream("POST", path, json=body, headers=AUTH) as reply:
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            events = [
                json.loads(line.removeprefix("data: "))
                for line in reply.iter_lines()
                if line.startswith("data: ") and line != "data: [DONE]"
            ]
            return reply.status_code, events
        return reply.status_code, json.loads(reply.read())


def _limit_of(body: dict[str, Any], field: str) -> int:
    asked = body.get(field)
    return LIMIT if asked is None else min(asked, LIMIT)


def _check_chat(body: dict[str, Any], reply: Any) -> None:
    limit = _limit_of(body, "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens")
    spent: dict[int, int] = {}
    if body["stream"]:
        for event in reply:
            for choice in event["choices"]:
                delta = choice["delta"]
                if delta.get("content"):
                    spent[choice["index"]] = spent.get(choice["index"], 0) + 1
                for call in delta.get("tool_calls", []):
                    text = call["function"].get("name", "") if "id" in call else call["function"]["arguments"]
                    spent[choice["index"]] = spent.get(choice["index"], 0) + (count_tokens(text) if "id" in call else 1)
        assert len({event["id"] for event in reply}) == 1
    else:
        assert reply["usage"]["completion_tokens"] <= body["n"] * limit
        for choice in reply["choices"]:
            message = choice["message"]
            text_tokens = count_tokens(message["content"] or "")
            call_tokens = sum(
                count_tokens(call["function"]["name"]) + count_tokens(call["function"]["arguments"])
                for call in message.get("tool_calls") or []
            )
            spent[choice["index"]] = text_tokens + call_tokens
            assert choice["finish_reason"] in ("stop", "length", "tool_calls")
    assert len(spent) <= body["n"]
    assert max(spent.values(), default=0) <= limit, f"a choice of {max(spent.values())} tokens, limit {limit}"


def _check_responses(body: dict[str, Any], reply: Any) -> None:
    final = reply[-1]["response"] if body["stream"] else reply
    assert final["status"] in ("completed", "incomplete")
    assert final["usage"]["output_tokens"] <= _limit_of(body, "max_output_tokens")
    if final["status"] == "incomplete":
        assert final["incomplete_details"] == {"reason": "max_output_tokens"}


def _check_completions(body: dict[str, Any], reply: Any) -> None:
    limit = min(body.get("max_tokens", 16), LIMIT)
    prompts = len(body["prompt"]) if isinstance(body["prompt"], list) else 1
    if body["stream"]:
        pieces: dict[int, int] = {}
        for event in reply:
            for choice in event["choices"]:
                if choice["text"] and not (body["echo"] and choice["text"] == "say something"):
                    pieces[choice["index"]] = pieces.get(choice["index"], 0) + 1
        assert max(pieces.values(), default=0) <= limit
    else:
        assert len(reply["choices"]) == prompts * body["n"]
        assert reply["usage"]["completion_tokens"] <= prompts * body["n"] * limit


def test_no_request_exhausts_the_server(bounded_server: ServerProcess) -> None:
    server = bounded_server
    idle, _ = server.memory()
    server.reset_peak()
    statuses: dict[int, int] = {}
    with health_probe(server.url) as health, httpx.Client(base_url=server.url, timeout=120) as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=requests)
        def check(case: tuple[str, dict[str, Any]]) -> None:
            path, body = case
            status, reply = _read(client, path, body)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 400:
                assert set(reply["error"]) == {"message", "type", "param", "code"}
                return
            assert status == 200, reply
            {"/v1/chat/completions": _check_chat, "/v1/responses": _check_responses}.get(path, _check_completions)(
                body, reply
            )

        check()
    _, peak = server.memory()
    [report] = health
    print(
        f"\n{EXAMPLES} examples {statuses}: peak RSS {peak / MB:.0f} MB over idle {idle / MB:.0f} MB; "
        f"/health {len(report.latencies)} probes p50 {report.percentile(0.5) * 1000:.1f} ms "
        f"p95 {report.percentile(0.95) * 1000:.1f} ms max {report.worst * 1000:.1f} ms; "
        f"not within {HEALTH_BOUND * 1000:.0f} ms at 3 attempts: {report.share_over(HEALTH_BOUND):.1%} "
        f"[{environment_note()}]"
    )
    assert peak - idle < MEMORY_BUDGET
    assert report.failures == 0
    # the loop never waits on one request: a request that held it would stall every probe, and every retry, for
    # its whole length (seconds, before). A loaded machine may leave the server unscheduled for a moment, so a
    # slow probe is asked again at once; a sample is late when all three attempts were, which may happen to 1%
    # of them on a machine shared with other test runs, and no probe may wait a second
    assert report.share_over(HEALTH_BOUND) <= 0.01
    assert report.worst < 1.0
