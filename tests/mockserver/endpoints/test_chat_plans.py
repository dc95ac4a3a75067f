"""The chat route's memo of checked requests and generated choices (``_endpoints._chat_plans``): a reply from
the memo is the reply the request would have had anyway, and nothing stateful is ever kept."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.requests import Request

from mockserver import CannedReply, ServerConfig
from mockserver.endpoints._chat_plans import LARGEST_KEPT_BODY, ChatPlans
from mockserver.endpoints.chat import create_chat_completion
from mockserver.http.dispatch import Call
from mockserver.state.server_state import ServerState
from mockserver.wire.errors import APIErrorResponse
from mockserver.wire.replies import JSONReply, StreamReply

BODY: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}], "n": 2}


def _state(config: ServerConfig) -> ServerState:
    """A state on a fixed clock: two of them made a moment apart still agree on every ``created`` second."""
    return ServerState(config, clock=lambda: 1_750_000_000.0)


def _call(state: ServerState, body: Any) -> Call:
    raw = orjson.dumps(body)
    request = Request({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []})
    return Call(request, orjson.loads(raw), state, raw)


async def _answer(state: ServerState, body: Any, plans: ChatPlans | None) -> dict[str, Any]:
    reply = await create_chat_completion(_call(state, body), plans)
    assert isinstance(reply, JSONReply)
    return dict(reply.body)


def _content(body: dict[str, Any]) -> Any:
    return {key: value for key, value in body.items() if key not in ("id", "created")}


async def test_a_kept_plan_gives_the_reply_the_request_would_have_had() -> None:
    plans = ChatPlans()
    kept, fresh = _state(ServerConfig(seed=7)), _state(ServerConfig(seed=7))
    for _ in range(3):
        assert await _answer(kept, BODY, plans) == await _answer(fresh, BODY, None)


async def test_every_reply_draws_its_own_id() -> None:
    plans = ChatPlans()
    state = ServerState(ServerConfig())
    first, second = await _answer(state, BODY, plans), await _answer(state, BODY, plans)
    assert first["id"] != second["id"]
    assert _content(first) == _content(second)


@pytest.mark.parametrize("extra", [{}, {"logprobs": True, "top_logprobs": 2}])
async def test_a_stream_from_a_kept_plan_matches_a_fresh_one(extra: dict[str, Any]) -> None:
    plans = ChatPlans()
    body = {**BODY, **extra, "stream": True, "stream_options": {"include_usage": True}}
    kept, fresh = _state(ServerConfig(seed=3)), _state(ServerConfig(seed=3))
    for _ in range(2):
        ours = await create_chat_completion(_call(kept, body), plans)
        theirs = await create_chat_completion(_call(fresh, body), None)
        assert isinstance(ours, StreamReply)
        assert isinstance(theirs, StreamReply)
        assert tuple(ours.events) == tuple(theirs.events)


async def test_canned_replies_are_consumed_and_never_kept() -> None:
    plans = ChatPlans()
    state = ServerState(ServerConfig())
    plain = await _answer(state, BODY, plans)
    state.push_replies("One.", CannedReply(content="Two."))
    canned = await _answer(state, BODY, plans)
    assert [choice["message"]["content"] for choice in canned["choices"]] == ["One.", "Two."]
    assert not state.replies
    assert _content(await _answer(state, BODY, plans)) == _content(plain)


async def test_a_new_config_is_answered_afresh() -> None:
    plans = ChatPlans()
    state = ServerState(ServerConfig())
    generated = await _answer(state, BODY, plans)
    state.config = state.config.with_changes(mode="echo")
    echoed = await _answer(state, BODY, plans)
    assert echoed["choices"][0]["message"]["content"] == "Say hello"
    assert echoed["choices"][0]["message"]["content"] != generated["choices"][0]["message"]["content"]


async def test_a_refused_request_is_refused_every_time() -> None:
    plans = ChatPlans()
    state = ServerState(ServerConfig(strict_models=True))
    for _ in range(2):
        with pytest.raises(APIErrorResponse) as refused:
            await _answer(state, {**BODY, "model": "no-such-model"}, plans)
        assert refused.value.status == 404


async def test_the_memo_is_bounded() -> None:
    plans = ChatPlans(size=2)
    state = ServerState(ServerConfig())
    for index in range(5):
        await _answer(state, {**BODY, "user": str(index)}, plans)
    assert len(plans) == 2
    await _answer(state, {**BODY, "messages": [{"role": "user", "content": "x" * LARGEST_KEPT_BODY}]}, plans)
    assert len(plans) == 2


async def test_a_call_without_body_bytes_is_never_kept() -> None:
    plans = ChatPlans()
    state = ServerState(ServerConfig(mode="echo"))
    request = Request({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []})
    echoed = []
    for text in ("first", "second"):
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
        reply = await create_chat_completion(Call(request, body, state), plans)  # no raw bytes
        assert isinstance(reply, JSONReply)
        echoed.append(reply.body["choices"][0]["message"]["content"])
    assert echoed == ["first", "second"]
    assert len(plans) == 0
