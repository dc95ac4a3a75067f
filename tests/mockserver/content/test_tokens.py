from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockserver.content.tokenizer import (
    _ASCII_PIECE,
    _PIECE,
    ATTACHMENT_TOKENS,
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    _split_long,
    count_message_tokens,
    count_tokens,
    iter_tokens,
    split_tokens,
    text_message_tokens,
)


@given(st.text())
def test_pieces_join_back_to_the_text(text: str) -> None:
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert all(pieces)
    assert count_tokens(text) == len(pieces)


def test_words_carry_their_leading_space_and_punctuation_stands_alone() -> None:
    assert split_tokens("Hello, world! It's 2024.") == ["Hello", ",", " world", "!", " It", "'s", " 202", "4", "."]


def test_long_words_are_split_like_rare_words() -> None:
    pieces = split_tokens("internationalization")
    assert len(pieces) == 2
    assert "".join(pieces) == "internationalization"


def test_empty_text_has_no_tokens() -> None:
    assert split_tokens("") == []
    assert count_tokens("") == 0


def test_message_tokens_add_overhead_per_message_and_priming_once() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    expected = REPLY_PRIMING_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS
    expected += count_tokens("system") + count_tokens("Be brief.") + count_tokens("user") + count_tokens("Hello there")
    assert count_message_tokens(messages) == expected


def test_a_name_costs_one_more_token() -> None:
    plain = count_message_tokens([{"role": "user", "content": "hi"}])
    named = count_message_tokens([{"role": "user", "content": "hi", "name": "bob"}])
    assert named == plain + count_tokens("bob") + 1


def test_content_parts_count_text_and_fixed_costs_for_media() -> None:
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ]
    as_parts = count_message_tokens([{"role": "user", "content": parts}])
    as_text = count_message_tokens([{"role": "user", "content": "What is this?"}])
    assert as_parts == as_text + IMAGE_TOKENS + ATTACHMENT_TOKENS


def test_assistant_tool_calls_count_their_name_and_arguments() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    without = count_message_tokens([{"role": "assistant", "content": None}])
    with_call = count_message_tokens([{"role": "assistant", "content": None, "tool_calls": [call]}])
    assert with_call == without + count_tokens("get_weather") + count_tokens('{"city":"Oslo"}')


#: ASCII text weighted towards what the two piece patterns must agree on: each class, the contractions, spaces
#: before every class, and the whitespace that is not a space (``\x1c``-``\x1f`` are whitespace too)
ASCII_TEXT = st.text(
    alphabet=st.characters(max_codepoint=127)
    | st.sampled_from([" ", " ", "'", "s", "l", "r", "e", "_", "7", "!", "\t", "\n", "\x1c", "\x1f", "\x0b"]),
    max_size=40,
)


#: ASCII text of runs (long ones too, around the longest piece) of one character or contraction each
ASCII_RUNS = st.lists(
    st.tuples(
        st.sampled_from(["a", "Z", "'", "'s", "'ll", "!", ".", "_", "7", " ", " x", "\t", "\n", "\x1c"]),
        st.sampled_from([11, 12, 13, 24]) | st.integers(1, 30),
    ),
    max_size=8,
).map(lambda runs: "".join(unit * length for unit, length in runs))


# no deadline: a loaded machine may take long over one example
@settings(deadline=None)
@given(ASCII_TEXT | ASCII_RUNS | st.lists(ASCII_TEXT | ASCII_RUNS, max_size=3).map("".join))
@example("!" * 12 + "'s")  # a contraction right after a split run of punctuation is not one
@example(" " * 13 + "word")  # a split run of spaces, its last space leading the word
@example(" " + "b" * 12 + " " + "_" * 25 + "\n" * 14 + "x")
def test_ascii_text_gives_the_pieces_of_the_unicode_pattern_split(text: str) -> None:
    assert _ASCII_PIECE.findall(text) == _split_long(_PIECE.findall(text))
    assert split_tokens(text) == list(iter_tokens(text))
    assert count_tokens(text) == len(split_tokens(text))


#: ASCII text the count takes without the pattern (:func:`count_tokens`): runs of letters, digits and punctuation
#: (around the longest piece, and digit runs of every length modulo three), single spaces between some, and now and
#: then what it leaves to the pattern (two spaces, a space at the end)
COUNTED_TEXT = st.lists(
    st.tuples(
        st.sampled_from(["", "", " ", " ", " ", "  "]),
        st.sampled_from(["a", "Z", "q", "7", "0", "!", ".", ",", "~", "\x00", "\x7f", "(", "?"]),
        st.sampled_from([10, 11, 12, 13, 23, 24]) | st.integers(1, 8),
    ),
    max_size=12,
).map(lambda runs: "".join(before + unit * length for before, unit, length in runs))
#: the same with what else the pattern takes: an apostrophe (contractions), an underscore, other whitespace
COUNTED_OR_NOT = st.lists(
    COUNTED_TEXT | st.sampled_from(["'", "'s", "'t", "'ll", "_", "\t", "\n", "\x1c", " ", ""]), max_size=4
).map("".join)


# no deadline: a loaded machine may take long over one example
@settings(deadline=None)
@given(COUNTED_TEXT | COUNTED_OR_NOT | ASCII_TEXT | st.lists(COUNTED_TEXT | ASCII_RUNS, max_size=3).map(" ".join))
@example("Hello! How are you? number 000000000001")
@example(" " + "w" * 11 + " " + "x" * 12 + "y" * 13 + " " + "1" * 13 + "!" * 12)  # runs around the longest piece
@example("end ")  # a space that leads no piece is one itself
@example("a  b")  # as is the first of two
@example("1234 12345 123456")  # a piece per three digits
def test_the_count_of_ascii_text_is_the_number_of_its_pieces(text: str) -> None:
    assert count_tokens(text) == len(split_tokens(text)) == len(_split_long(_PIECE.findall(text)))


# no deadline: a loaded machine may take long over one example
@settings(deadline=None)
@given(
    messages=st.lists(
        st.tuples(
            st.sampled_from(["system", "user", "assistant", "developer", "robot"]),
            st.text(max_size=30) | ASCII_TEXT,
            st.none() | st.text(max_size=8),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_text_messages_count_as_their_mappings_do(messages: list[tuple[str, str, str | None]]) -> None:
    mappings = [
        {"role": role, "content": content} if name is None else {"role": role, "content": content, "name": name}
        for role, content, name in messages
    ]
    counted = REPLY_PRIMING_TOKENS + sum(text_message_tokens(*message) for message in messages)
    assert counted == count_message_tokens(mappings)
