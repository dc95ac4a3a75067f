"""A chat reply encoded from its fixed parts (what the at-once lane sends) is byte for byte the reply's body encoded
as a whole (what the app sends), over arbitrary requests, texts, models and service tiers."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import ServerConfig
from mockserver.endpoints._chat_common_request import common_chat_request
from mockserver.endpoints._chat_reply import generate_choices, plan_reply
from mockserver.endpoints._chat_request import parse_chat_request
from mockserver.state.server_state import ServerState
from mockserver.wire.json_codec import dumps

#: any text JSON can carry, escapes and all
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["gpt-4o", "gpt-4o-mini"]) | TEXT.filter(bool)),
        "messages": [{"role": "user", "content": draw(TEXT)}],
    }
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        body["max_tokens"] = draw(st.integers(1, 30))
    if draw(st.booleans()):
        body["stop"] = draw(st.sampled_from([".", " the", "e", "\n", '"']))
    if draw(st.booleans()):
        body["service_tier"] = draw(st.sampled_from(["auto", "default", "flex", "scale", "priority"]))
    if draw(st.integers(0, 4)) == 0:
        body["logprobs"] = True
    if draw(st.integers(0, 4)) == 0:
        body["tools"] = [TOOL]
    return body


@settings(max_examples=300, deadline=None)
@given(
    body=bodies(),
    mode=st.sampled_from(["generate", "echo"]),
    canned=st.lists(TEXT, max_size=3),
    seed=st.integers(0, 2**32),
)
def test_the_encoded_body_is_the_body_encoded(body: dict[str, Any], mode: str, canned: list[str], seed: int) -> None:
    state = ServerState(ServerConfig(seed=seed, mode=mode))
    state.push_replies(*canned)
    request = common_chat_request(body, state) or parse_chat_request(body, state)
    reply = plan_reply(state, request, generate_choices(state, request), "fp_0123456789")
    assert reply.encoded_body() == dumps(reply.body())
