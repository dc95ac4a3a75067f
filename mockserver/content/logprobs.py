"""Deterministic log probabilities for generated tokens, in chat's and legacy completions' shapes.

Values come from an RNG seeded by the request's key and choice, drawn token by token, so a streamed reply
carries exactly the numbers the non-streamed one does. The sampled token is always the most likely one.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["chat_logprobs", "completion_logprobs", "iter_chat_logprobs", "logprob_rng"]

_ALTERNATIVES = (
    " the", " a", " and", ",", ".", " of", " to", " in", " is", " it", " that", " for", " on", " with",
    " as", " was", " be", " by", " this", " an", " or", " at",
)  # fmt: skip


def logprob_rng(key: bytes, choice_index: int) -> random.Random:
    """The RNG that draws one choice's log probabilities."""
    digest = hashlib.sha256(b"logprobs:%d:" % choice_index + key).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _token_logprobs(rng: random.Random, token: str, top: int) -> tuple[float, list[tuple[str, float]]]:
    """The token's logprob and up to ``top`` (token, logprob) pairs, most likely first, the token among them."""
    chosen = -round(rng.expovariate(4.0), 6)
    alternatives: list[tuple[str, float]] = [(token, chosen)]
    value = chosen
    others = [candidate for candidate in _ALTERNATIVES if candidate != token]
    for candidate in rng.sample(others, k=min(max(top - 1, 0), len(others))):
        value = round(value - rng.uniform(0.5, 3.0), 6)
        alternatives.append((candidate, value))
    return chosen, alternatives[:top]


def chat_logprobs(rng: random.Random, pieces: Sequence[str], top: int) -> list[dict[str, Any]]:
    """One ``ChatCompletionTokenLogprob`` object per piece, drawn in order from ``rng``."""
    return list(iter_chat_logprobs(rng, pieces, top))


def iter_chat_logprobs(rng: random.Random, pieces: Iterable[str], top: int) -> Iterator[dict[str, Any]]:
    """:func:`chat_logprobs` one piece at a time (the same draws), for a stream that holds one at a time."""
    for piece in pieces:
        chosen, alternatives = _token_logprobs(rng, piece, top)
        yield {
            "token": piece,
            "logprob": chosen,
            "bytes": list(piece.encode()),
            "top_logprobs": [
                {"token": token, "logprob": value, "bytes": list(token.encode())} for token, value in alternatives
            ],
        }


def completion_logprobs(rng: random.Random, pieces: Sequence[str], top: int, *, offset: int = 0) -> dict[str, Any]:
    """The legacy completions ``logprobs`` object (parallel lists) for ``pieces`` starting at text ``offset``."""
    tokens: list[str] = []
    token_logprobs: list[float] = []
    top_logprobs: list[dict[str, float]] = []
    text_offset: list[int] = []
    for piece in pieces:
        chosen, alternatives = _token_logprobs(rng, piece, top)
        tokens.append(piece)
        token_logprobs.append(chosen)
        top_logprobs.append(dict(alternatives))
        text_offset.append(offset)
        offset += len(piece)
    return {
        "tokens": tokens,
        "token_logprobs": token_logprobs,
        "top_logprobs": top_logprobs,
        "text_offset": text_offset,
    }
