"""The fast sentence generator draws exactly as the plain one it replaced: same seed, same text, same RNG state
after (it inlines ``rng.choice``; this test catches a Python whose ``choice`` draws differently)."""

from __future__ import annotations

import random

import pytest

from mockserver.content.generation import _WORDS, _sentence_pieces


def plain_sentence_pieces(rng: random.Random, length: int, *, leading_space: bool) -> list[str]:
    pieces: list[str] = []
    sentence_start = True
    words_in_sentence = 0
    while len(pieces) < length:
        remaining = length - len(pieces)
        after_word = bool(pieces) and pieces[-1][-1].isalpha()
        if remaining == 1 or (after_word and remaining > 2 and words_in_sentence >= 4 and rng.random() < 0.15):
            pieces.append(".")
            sentence_start, words_in_sentence = True, 0
            continue
        if after_word and words_in_sentence >= 3 and remaining > 2 and rng.random() < 0.08:
            pieces.append(",")
            continue
        word = rng.choice(_WORDS)
        if sentence_start:
            word = word.capitalize()
        pieces.append(word if not pieces and not leading_space else " " + word)
        sentence_start = False
        words_in_sentence += 1
    return pieces


@pytest.mark.parametrize("leading_space", [False, True])
def test_same_pieces_and_same_rng_state_as_plain_draws(leading_space: bool) -> None:
    for seed in range(400):
        length = seed % 120 + 1
        fast_rng, plain_rng = random.Random(seed), random.Random(seed)
        fast = _sentence_pieces(fast_rng, length, leading_space=leading_space)
        assert fast == plain_sentence_pieces(plain_rng, length, leading_space=leading_space)
        assert len(fast) == length
        assert fast_rng.random() == plain_rng.random()
