"""The pooled sentences generated text is drawn from: lengths in the range asked for, pieces the tokenizer agrees
with, the same text for the same material, and a cut reply the start of the whole one."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.content.logprobs import chat_logprobs
from mockserver.content.sentences import _BODY_LENGTHS, _DRAWN, _POOL, LONGEST, PER_LENGTH, reply_text
from mockserver.content.tokenizer import count_tokens, split_tokens


def reply_pieces(
    material: bytes, shortest: int, longest: int, *, most: int | None = None, leading_space: bool = False
) -> list[str]:
    """A reply's pieces, as a list."""
    return list(reply_text(material, shortest, longest, most=most, leading_space=leading_space)[1])


LENGTHS = st.integers(min_value=1, max_value=3 * LONGEST + 7) | st.integers(min_value=1, max_value=3000)


@given(material=st.binary(max_size=40), length=LENGTHS, spread=st.integers(0, 30), leading_space=st.booleans())
def test_a_length_in_range_and_pieces_the_tokenizer_splits_alike(
    material: bytes, length: int, spread: int, leading_space: bool
) -> None:
    pieces = reply_pieces(material, length, length + spread, leading_space=leading_space)
    text = "".join(pieces)
    assert length <= len(pieces) <= length + spread
    assert split_tokens(text) == pieces
    assert count_tokens(text) == len(pieces)
    assert text.endswith(".")
    assert text.startswith(" ") == (leading_space and len(pieces) > 1)  # one token is the full stop alone
    assert reply_pieces(material, length, length + spread, leading_space=leading_space) == pieces


@given(material=st.binary(max_size=40), length=LENGTHS, spread=st.integers(0, 30), most=st.integers(0, 400))
def test_most_gives_the_first_pieces_of_the_whole_reply(material: bytes, length: int, spread: int, most: int) -> None:
    whole = reply_pieces(material, length, length + spread)
    assert reply_pieces(material, length, length + spread, most=most) == whole[:most]


@given(
    material=st.binary(max_size=40),
    length=LENGTHS,
    spread=st.integers(0, 30),
    most=st.none() | st.integers(0, 400),
    leading_space=st.booleans(),
)
def test_the_reply_text_is_the_join_of_its_pieces(
    material: bytes, length: int, spread: int, most: int | None, leading_space: bool
) -> None:
    text, pieces = reply_text(material, length, length + spread, most=most, leading_space=leading_space)
    assert text == "".join(pieces)
    assert list(pieces) == reply_pieces(material, length, length + spread, most=most, leading_space=leading_space)


def test_different_material_gives_different_text_and_lengths_cover_the_range() -> None:
    texts = {"".join(reply_pieces(b"key %d" % number, 30, 30)) for number in range(200)}
    assert len(texts) >= 190
    lengths = {len(reply_pieces(b"key %d" % number, 8, 12)) for number in range(200)}
    assert lengths == {8, 9, 10, 11, 12}
    assert len(reply_pieces(b"any", 7, 7)) == 7
    assert len(reply_pieces(b"any", 7, 3)) == 7  # a range the wrong way round is its shortest


@pytest.mark.parametrize("top", [1, 3, 5, 20])
def test_top_logprobs_has_top_entries_even_when_the_token_is_an_alternative(top: int) -> None:
    for token in (",", ".", " the", " model"):
        (logprob,) = chat_logprobs(random.Random(token), [token], top)
        assert len(logprob["top_logprobs"]) == top
        assert logprob["top_logprobs"][0]["token"] == token
        assert len({entry["token"] for entry in logprob["top_logprobs"]}) == top


def test_the_draw_tables_pick_what_the_draw_bytes_say() -> None:
    """The tables a reply is drawn through: a sentence by its whole draw byte (the byte's low bits pick it among
    its length's), a body sentence's length by its byte (the shortest body sentence plus the byte's low four
    bits)."""
    for length, sentences in enumerate(_POOL):
        assert len(_DRAWN[length]) == (256 if sentences else 0)
        for byte, sentence in enumerate(_DRAWN[length]):
            assert sentence is sentences[byte % PER_LENGTH]
    assert list(_BODY_LENGTHS) == [5 + byte % 16 for byte in range(256)]
