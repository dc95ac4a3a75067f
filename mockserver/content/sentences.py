"""English-like reply text drawn from precomputed sentences of known length in tokens.

A generated reply is whole sentences, each taken from a pool of :data:`PER_LENGTH` sentences of exactly ``k``
tokens (``k`` from :data:`SHORTEST` to :data:`LONGEST`; a sentence's pieces are the tokenizer's pieces of its
text, so its length is known without tokenizing). The draws come from one SHAKE-128 digest of the seed material:
the reply's length, then each sentence's length and which sentence of that length, two bytes per sentence (a
longer digest starts with the bytes of a shorter one, so a cut reply is the start of the whole one). So a
reply of ``n`` tokens costs about ``n / 12`` look-ups and a join, not a random draw per word, and the same material
always gives the same text.

The pool is made once, at import, from a fixed seed (a few milliseconds), and never changes.
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass

__all__ = ["LONGEST", "PER_LENGTH", "SHORTEST", "WORDS", "Sentence", "reply_text"]

WORDS = (
    "the", "a", "model", "answer", "data", "simple", "clear", "result", "question", "system", "we", "can",
    "this", "that", "is", "are", "will", "should", "test", "value", "quick", "small", "light", "stream",
    "token", "reply", "request", "server", "client", "time", "every", "each", "some", "more", "first",
    "next", "good", "useful", "future", "world", "idea", "shows", "makes", "gives", "takes", "works",
    "helps", "brings", "always", "often", "here", "there", "with", "from", "into", "about", "over",
)  # fmt: skip
#: the shortest sentence, in tokens: one word and its full stop
SHORTEST = 2
#: the longest sentence in the pool, in tokens
LONGEST = 20
#: sentences of each length (a power of two at most 256, so one draw byte picks one without bias)
PER_LENGTH = 128
#: while more than :data:`LONGEST` tokens remain, a sentence is ``_BODY_SHORTEST + (byte & 15)`` tokens long
_BODY_SHORTEST = 5
#: bytes of digest for the reply's length
_LENGTH_BYTES = 8
#: the reply's length draw: the digest's first :data:`_LENGTH_BYTES` as a big-endian number (in a 1-tuple)
_length_draw = struct.Struct(">Q").unpack_from


@dataclass(frozen=True, slots=True)
class Sentence:
    """One pooled sentence: its token pieces as the first sentence of a text and as a later one (with the space
    that separates it from the sentence before), and both texts."""

    pieces: tuple[str, ...]
    spaced_pieces: tuple[str, ...]
    text: str
    spaced_text: str


def _make_sentence(rng: random.Random, length: int) -> Sentence:
    """``length`` pieces: words, a comma now and then (after three words, never before the full stop), then a
    full stop."""
    pieces: list[str] = []
    words = 0
    while len(pieces) < length - 1:
        left = length - 1 - len(pieces)
        if words >= 3 and left >= 2 and pieces[-1][-1].isalpha() and rng.random() < 0.08:
            pieces.append(",")
            continue
        word = rng.choice(WORDS)
        pieces.append((" " + word) if pieces else word.capitalize())
        words += 1
    pieces.append(".")
    text = "".join(pieces)
    return Sentence(tuple(pieces), (" " + pieces[0], *pieces[1:]), text, " " + text)


def _make_pool() -> tuple[tuple[Sentence, ...], ...]:
    """``pool[k]``: the sentences of ``k`` tokens (empty below :data:`SHORTEST`)."""
    rng = random.Random("mockserver sentences")
    return tuple(
        tuple(_make_sentence(rng, length) for _ in range(PER_LENGTH)) if length >= SHORTEST else ()
        for length in range(LONGEST + 1)
    )


_POOL = _make_pool()
#: :data:`_POOL` indexed by a whole draw byte: ``_DRAWN[k][byte]`` is ``_POOL[k][byte & (PER_LENGTH - 1)]``
_DRAWN = tuple(
    tuple(sentences[byte & (PER_LENGTH - 1)] for byte in range(256)) if sentences else () for sentences in _POOL
)
#: a body sentence's length for each value of its draw byte: ``_BODY_SHORTEST + (byte & 15)``
_BODY_LENGTHS = bytes(_BODY_SHORTEST + (byte & 15) for byte in range(256))


def reply_text(
    material: bytes, shortest: int, longest: int, *, most: int | None = None, leading_space: bool = False
) -> tuple[str, tuple[str, ...]]:
    """The text and the token pieces of a reply of whole sentences, ``shortest..longest`` tokens long (the text is
    the pieces' join), drawn from ``material``; with ``most``, only the first ``most`` pieces (the same pieces, made
    without the rest). Made a sentence at a time: the text from the sentences' texts, the pieces from their tuples
    of pieces."""
    # (comparisons rather than ``min`` and ``max``: this runs for every reply)
    if longest < shortest:
        longest = shortest
    wanted = longest if most is None or most >= longest else most if most > 0 else 0
    # the length's draw and at most one pair of draws per ``_BODY_SHORTEST`` tokens wanted (and one more)
    draws = hashlib.shake_128(material).digest(_LENGTH_BYTES + 2 * (wanted // _BODY_SHORTEST + 2))
    length = shortest + _length_draw(draws)[0] % (longest - shortest + 1)
    if length < wanted:
        wanted = length
    if wanted <= 0:
        return "", ()
    if length == 1:
        return ".", (".",)
    # (the tables are looked up by the draw bytes themselves: fewer steps per sentence)
    drawn = _DRAWN
    text = ""
    pieces: tuple[str, ...] = ()
    made = 0
    position = _LENGTH_BYTES
    while made < wanted:
        # the last sentence takes what remains; one before it leaves at least a shortest sentence
        remaining = length - made
        if remaining <= LONGEST:
            size = remaining
        else:
            size = _BODY_LENGTHS[draws[position]]
            if size > remaining - 2:
                size = remaining - 2
        sentence = drawn[size][draws[position + 1]]
        # each sentence with the space before it; the first one too only when asked for
        if made or leading_space:
            text += sentence.spaced_text
            pieces += sentence.spaced_pieces
        else:
            text, pieces = sentence.text, sentence.pieces
        made += size
        position += 2
    if made > wanted:
        pieces = pieces[:wanted]
        text = "".join(pieces)
    return text, pieces
