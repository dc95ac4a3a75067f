"""The one-conversion check of common chat requests (``_chat_common_request``) agrees with the field-by-field
checks: on bodies it takes, the very same request value; bodies the checks refuse, it declines, so the error the
client gets (and its text) is the field-by-field one."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import ServerConfig
from mockserver.endpoints._chat_common_request import common_chat_request
from mockserver.endpoints._chat_request import ChatRequest, parse_chat_request
from mockserver.state.server_state import ServerState
from mockserver.wire.errors import APIErrorResponse

STATE = ServerState(ServerConfig(seed=5))

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(-3, 3, allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ROLES = st.sampled_from(["system", "user", "assistant", "developer", "tool", "function", "robot"])
COMMON_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "developer"]), "content": st.text(max_size=20)},
    optional={"name": st.text(max_size=5)},
)
#: a message's keys, each given a value of any kind when a message is perturbed
MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "refusal")


#: per field: values the common shape takes, and values just out of bounds or of another type
FIELDS: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    "n": ((1, 2, 128, None), (129, 0, 1.0, True)),
    "temperature": ((0, 2, 1, 0.7, None), (2.5, -0.1, True, "1")),
    "top_p": ((0, 1, 0.5), (1.01, -1)),
    "presence_penalty": ((-2, 2, 0.1), (-2.1, 2.1)),
    "frequency_penalty": ((-2, 2, 0), (-2.1, 2.1)),
    "seed": ((1, -5, 2**40), (1.5, "1")),
    "user": (("u", None), (1,)),
    "logit_bias": (({}, {"50": 1}), ([], "x")),
    "parallel_tool_calls": ((True, False), (1, "yes")),
    "stream": ((True, False, None), (1, "true")),
    "stream_options": (({"include_usage": True}, {"include_usage": False}, {}), ({"include_usage": 1}, [])),
    "logprobs": ((True, False), (0,)),
    "top_logprobs": ((0, 20, 3), (21, -1, 2.0)),
    "max_completion_tokens": ((1, 16_384, 50), (0, 16_385, 1.5)),
    "max_tokens": ((1, 4_096, 50), (0, 16_385)),
    "stop": (("x", [], ["a", "b"], None), (["a"] * 5, [1], 1)),
    "store": ((True, False), ("no",)),
    "service_tier": (("auto", "default", "flex", "scale", "priority"), ("fast", 1)),
    "reasoning_effort": (("none", "low", "xhigh", "max"), ("huge",)),
    "model": (("gpt-4o", "gpt-3.5-turbo"), ("gpt-unknown", "", None, 4)),
}
#: fields the common shape never takes (the field-by-field checks handle them)
OTHER_FIELDS = ("metadata", "tools", "tool_choice", "response_format", "unknown_field")


@st.composite
def bodies(draw: st.DrawFn, perturbed: str) -> dict[str, Any]:
    """A body of the common shape with a few fields set, then ``perturbed`` given a value out of bounds, of
    another type, or any at all."""
    body: dict[str, Any] = {"model": "gpt-4o", "messages": draw(st.lists(COMMON_MESSAGE, min_size=1, max_size=3))}
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=5)):
        body[name] = draw(st.sampled_from(FIELDS[name][0]))
    if perturbed == "messages":
        message = dict(draw(COMMON_MESSAGE))
        key = draw(st.sampled_from(MESSAGE_KEYS))
        message[key] = draw(ROLES if key == "role" else ANY_JSON | st.just([{"type": "text", "text": "hi"}]))
        if draw(st.booleans()):
            del message[key]
        position = draw(st.integers(0, len(body["messages"])))
        body["messages"] = [*body["messages"][:position], message, *body["messages"][position:]]
        body["messages"] = draw(st.just(body["messages"]) | ANY_JSON)
    elif perturbed in FIELDS:
        good, bad = FIELDS[perturbed]
        body[perturbed] = draw(st.sampled_from(bad) | st.sampled_from(good) | ANY_JSON)
    else:
        body[perturbed] = draw(ANY_JSON)
    return body


def _field_by_field(body: dict[str, Any]) -> ChatRequest | dict[str, Any]:
    try:
        return parse_chat_request(body, STATE)
    except APIErrorResponse as exc:
        return {"status": exc.status, **exc.body()}


def _as_served(body: dict[str, Any]) -> ChatRequest | dict[str, Any]:
    """What the chat endpoint does: the common check first, the field-by-field ones when it declines."""
    common = common_chat_request(body, STATE)
    return common if common is not None else _field_by_field(body)


@pytest.mark.parametrize("perturbed", [*FIELDS, *OTHER_FIELDS, "messages"])
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_same_request_or_the_same_error_as_the_field_by_field_checks(perturbed: str, data: st.DataObject) -> None:
    body = data.draw(bodies(perturbed))
    expected = _field_by_field(body)
    common = common_chat_request(body, STATE)
    if common is not None:
        assert common == expected
    assert _as_served(body) == expected


@given(
    content=st.text(max_size=30),
    fields=st.fixed_dictionaries(
        {},
        optional={
            "temperature": st.floats(0, 2),
            "n": st.integers(1, 128),
            "max_tokens": st.integers(1, 4096),
            "stream": st.booleans(),
            "stop": st.lists(st.text(max_size=3), max_size=4),
            "seed": st.integers(-(2**63), 2**63 - 1),
        },
    ),
)
def test_the_common_shape_is_taken_by_the_one_conversion(content: str, fields: dict[str, Any]) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": content}],
        **fields,
    }
    common = common_chat_request(body, STATE)
    assert common is not None
    assert common == parse_chat_request(body, STATE)


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": "x", "tool_calls": 1},
        {"role": "assistant", "content": "x", "tool_calls": [1]},
        {"role": "assistant", "content": "x", "tool_calls": [{"id": "c"}]},
        {"role": "assistant", "content": None},
        {"role": "tool", "content": "x"},
        {"role": "tool", "content": "x", "tool_call_id": 5},
        {"role": "function", "content": "x", "name": "f"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "user", "content": []},
        {"role": "user", "content": "x", "name": 3},
        {"role": "user", "content": "x", "refusal": None},
        {"role": "robot", "content": "x"},
        {"content": "x"},
    ],
)
def test_messages_outside_the_common_shape_get_the_field_by_field_answer(message: dict[str, Any]) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}, message]}
    assert common_chat_request(body, STATE) is None
    assert _as_served(body) == _field_by_field(body)


@pytest.mark.parametrize(
    "null",
    [
        {"n": None},
        {"stream": None},
        {"logprobs": None},
        {"store": None},
        {"parallel_tool_calls": None},
        {"stream": True, "stream_options": {"include_usage": None}},
    ],
)
def test_a_null_that_means_the_default_is_answered_as_the_default(null: dict[str, Any]) -> None:
    """The one conversion takes these fields' defaults, not null: a body sending the null is declined and the
    field-by-field checks answer it, with the request of a body that leaves the field out (but for the reply key,
    which holds the body's content as sent)."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **null}
    without = {name: value for name, value in body.items() if value is not None}
    if "stream_options" in without:
        without["stream_options"] = {}
    assert common_chat_request(body, STATE) is None
    served = _as_served(body)
    assert served == parse_chat_request(body, STATE)
    assert isinstance(served, ChatRequest)
    assert msgspec.structs.replace(served, key=b"") == msgspec.structs.replace(
        parse_chat_request(without, STATE), key=b""
    )
