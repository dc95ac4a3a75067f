from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import CannedReply, CannedToolCall, ServerConfig
from mockserver.content.generation import (
    Generation,
    GenerationRequest,
    PlannedToolCall,
    ToolSpec,
    _seed_material,
    generate,
    generate_text,
)
from mockserver.content.tokenizer import split_tokens
from mockserver.state.server_state import ServerState

WEATHER = ToolSpec(
    "get_weather",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
)
CLOCK = ToolSpec("get_time", {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]})


def _state(**config: Any) -> ServerState:
    return ServerState(ServerConfig(**{"seed": 3, **config}))


def _request(prompt: str = "Tell me something.", key: bytes = b"k1", **fields: Any) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, key=key, **fields)


def test_the_same_seed_and_key_give_the_same_reply() -> None:
    assert generate(_state(), _request()) == generate(_state(), _request())


def test_choices_keys_and_seeds_each_change_the_reply() -> None:
    base = generate(_state(), _request()).text
    assert generate(_state(), _request(choice_index=1)).text != base
    assert generate(_state(), _request(key=b"k2")).text != base
    assert generate(_state(seed=4), _request()).text != base


def test_generated_text_is_english_like_and_within_the_configured_length() -> None:
    state = _state(min_reply_tokens=5, max_reply_tokens=9)
    for number in range(30):
        generation = generate(state, _request(key=str(number).encode()))
        assert generation.text is not None
        assert 5 <= generation.completion_tokens <= 9
        assert len(generation.pieces) == generation.completion_tokens
        assert list(generation.pieces) == split_tokens(generation.text)
        assert generation.text[0].isupper()
        assert generation.text.endswith(".")
        assert generation.finish_reason == "stop"
        assert generation.tool_calls == ()


def test_echo_mode_replies_with_the_prompt() -> None:
    generation = generate(_state(mode="echo"), _request(prompt="Say this back, please!"))
    assert generation.text == "Say this back, please!"
    assert "".join(generation.pieces) == generation.text


def test_a_canned_text_reply_is_used_once() -> None:
    state = _state()
    state.push_replies("Canned answer.")
    assert generate(state, _request()).text == "Canned answer."
    assert generate(state, _request()).text != "Canned answer."


def test_canned_replies_are_consumed_one_per_choice() -> None:
    state = _state()
    state.push_replies("first", "second")
    texts = [generate(state, _request(choice_index=index)).text for index in range(2)]
    assert texts == ["first", "second"]


def test_canned_tool_calls_become_json_arguments() -> None:
    state = _state()
    state.push_replies(
        CannedReply(
            tool_calls=(
                CannedToolCall(name="get_weather", arguments={"city": "Oslo"}),
                CannedToolCall(name="get_time", arguments='{"zone": "UTC"}'),
            )
        )
    )
    generation = generate(state, _request())
    assert generation.text is None
    assert generation.finish_reason == "tool_calls"
    assert [call.name for call in generation.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(generation.tool_calls[0].arguments) == {"city": "Oslo"}
    assert generation.tool_calls[1].arguments == '{"zone": "UTC"}'


def test_max_tokens_cuts_the_reply_and_says_length() -> None:
    full = generate(_state(min_reply_tokens=20, max_reply_tokens=20), _request())
    cut = generate(_state(min_reply_tokens=20, max_reply_tokens=20), _request(max_tokens=4))
    assert cut.finish_reason == "length"
    assert cut.completion_tokens == 4
    assert cut.pieces == full.pieces[:4]


def test_a_stop_sequence_cuts_before_its_first_occurrence() -> None:
    state = _state(mode="echo")
    generation = generate(state, _request(prompt="one two. three. four", stop=("nope", ".")))
    assert generation.text == "one two"
    assert generation.finish_reason == "stop"


def test_max_tokens_wins_when_the_stop_sequence_comes_later() -> None:
    generation = generate(_state(mode="echo"), _request(prompt="a b c d e. f", stop=(".",), max_tokens=2))
    assert generation.text == "a b"
    assert generation.finish_reason == "length"


@pytest.mark.parametrize("tool_choice", ["required", "get_weather"])
def test_required_or_named_tool_choice_calls_a_tool_with_valid_arguments(tool_choice: str) -> None:
    generation = generate(_state(), _request(tools=(WEATHER,), tool_choice=tool_choice))
    assert generation.text is None
    assert generation.finish_reason == "tool_calls"
    (call,) = generation.tool_calls
    assert call.name == "get_weather"
    assert re.fullmatch(r"call_[A-Za-z0-9]{24}", call.id)
    jsonschema.validate(json.loads(call.arguments), WEATHER.parameters or {})
    assert generation.completion_tokens == len(call.argument_pieces()) + len(split_tokens(call.name))


def test_a_named_tool_choice_picks_that_tool_among_several() -> None:
    for number in range(10):
        generation = generate(_state(), _request(key=bytes([number]), tools=(WEATHER, CLOCK), tool_choice="get_time"))
        assert [call.name for call in generation.tool_calls] == ["get_time"]


def test_tool_choice_none_gives_text() -> None:
    generation = generate(_state(), _request(prompt="use get_weather", tools=(WEATHER,), tool_choice="none"))
    assert generation.text
    assert generation.tool_calls == ()


def test_auto_calls_every_tool_the_prompt_names() -> None:
    generation = generate(_state(), _request(prompt="Please use GET_TIME and get_weather.", tools=(WEATHER, CLOCK)))
    assert sorted(call.name for call in generation.tool_calls) == ["get_time", "get_weather"]
    assert len({call.id for call in generation.tool_calls}) == 2


def test_auto_without_a_mention_sometimes_calls_a_tool() -> None:
    outcomes = [generate(_state(), _request(key=str(number).encode(), tools=(WEATHER, CLOCK))) for number in range(60)]
    calls = [generation for generation in outcomes if generation.tool_calls]
    assert 0 < len(calls) < len(outcomes)
    assert all(generation.text is None for generation in calls)


def test_max_tokens_cuts_tool_arguments_short() -> None:
    generation = generate(_state(), _request(tools=(WEATHER,), tool_choice="required", max_tokens=4))
    assert generation.finish_reason == "length"
    assert generation.completion_tokens == 4
    (call,) = generation.tool_calls
    full = generate(_state(), _request(tools=(WEATHER,), tool_choice="required")).tool_calls[0]
    assert full.arguments.startswith(call.arguments)
    assert len(call.arguments) < len(full.arguments)


def test_a_tool_without_parameters_gets_an_object() -> None:
    generation = generate(_state(), _request(tools=(ToolSpec("ping"),), tool_choice="required"))
    assert isinstance(json.loads(generation.tool_calls[0].arguments), dict)


def test_json_schema_replies_validate_against_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    for number in range(10):
        generation = generate(_state(), _request(key=bytes([number]), json_schema=schema))
        assert generation.text is not None
        jsonschema.validate(json.loads(generation.text), schema)
        assert "".join(generation.pieces) == generation.text


def test_json_object_replies_are_a_json_object() -> None:
    generation = generate(_state(), _request(json_schema={}))
    assert generation.text is not None
    value = json.loads(generation.text)
    assert isinstance(value, dict)
    assert value


def test_values_are_frozen() -> None:
    generation = Generation("x", ("x",), (), "stop", 1)
    with pytest.raises(AttributeError):
        generation.text = "y"  # type: ignore[misc]
    call = PlannedToolCall("call_x", "f", '{"a": 1}')
    assert "".join(call.argument_pieces()) == call.arguments


def test_a_continuation_starts_with_a_space() -> None:
    generation = generate(_state(), _request(continuation=True))
    assert generation.text is not None
    assert generation.text.startswith(" ")
    assert list(generation.pieces) == split_tokens(generation.text)


def test_without_parallel_tool_calls_only_one_tool_is_called() -> None:
    request = _request(prompt="use get_time and get_weather", tools=(WEATHER, CLOCK), parallel_tool_calls=False)
    assert len(generate(_state(), request).tool_calls) == 1


# no deadline: a loaded machine may take long over one example
@settings(deadline=None)
@given(
    key=st.binary(max_size=12),
    choice_index=st.integers(0, 3),
    limit=st.none() | st.integers(1, 60),
    stop=st.lists(st.sampled_from(["", ".", ",", " the", "model", "zz"]), max_size=2).map(tuple),
    mode=st.sampled_from(["generate", "echo"]),
    canned=st.sampled_from([None, "Canned, it is. Then more.", ("Can", "ned", ".")]),
    lengths=st.sampled_from([(8, 48), (1, 1), (30, 90), (5, 2)]),
)
def test_generate_text_is_what_generate_gives_a_request_without_tools(
    key: bytes,
    choice_index: int,
    limit: int | None,
    stop: tuple[str, ...],
    mode: str,
    canned: str | tuple[str, ...] | None,
    lengths: tuple[int, int],
) -> None:
    config = {"mode": mode, "min_reply_tokens": lengths[0], "max_reply_tokens": lengths[1]}
    states = _state(**config), _state(**config)
    if canned is not None:
        reply = CannedReply(content=canned) if isinstance(canned, str) else CannedReply(pieces=canned)
        for state in states:
            state.push_replies(reply)
    request = _request("Echo this, please.", key, choice_index=choice_index, max_tokens=limit, stop=stop)
    direct = generate_text(states[0], request.prompt, key, choice_index, limit, stop)
    assert direct == generate(states[1], request)
    assert states[0].next_reply() is None  # the canned reply was consumed, as generate consumes it


@given(seed=st.integers(-(2**63), 2**63 - 1), choice_index=st.integers(0, 127), key=st.binary(max_size=20))
def test_the_seed_material_is_the_seed_and_choice_in_decimal_then_the_key(
    seed: int, choice_index: int, key: bytes
) -> None:
    # what every reply's draws are seeded from: changing it changes every reply a seed gives
    assert _seed_material(seed, choice_index, key) == f"{seed}:{choice_index}:".encode() + key
