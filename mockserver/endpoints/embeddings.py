"""``POST /v1/embeddings``: deterministic unit vectors for text or token-id inputs.

Accepts ``input`` as a string, a list of strings, a list of token ids, or a list of token-id lists (at most 2048
items, none empty, each within the model's 8192-token context), ``model`` (any id, unless ``strict_models``),
``encoding_format`` (``float`` or ``base64``) and ``dimensions`` (1 up to the model's native size; OpenAI's
text-embedding-ada-002 does not take it). Bad input is answered with OpenAI's 400/404 error shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, Route

from ..content.tokenizer import count_tokens
from ..http.dispatch import Call, Endpoint
from ..wire.errors import APIErrorResponse, invalid_type, invalid_value
from ..wire.fields import optional_choice, optional_int, optional_str, required, required_str
from ..wire.replies import JSONReply
from ._embedding_vectors import encode_base64, native_dimensions, unit_vector
from .models import check_model_served

__all__ = ["create_embeddings", "embeddings_reply", "routes"]

MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000
#: models whose vectors cannot be shortened with ``dimensions``
_FIXED_SIZE_MODELS = frozenset({"text-embedding-ada-002"})
_EXPECTED_INPUT = "a string, an array of strings, an array of integers, or an array of arrays of integers"


@dataclass(frozen=True, slots=True)
class EmbeddingInput:
    """One item to embed: the text (or token ids spelled as text) that keys its vector, and its token count."""

    key: str
    tokens: int


async def create_embeddings(call: Call) -> JSONReply:
    """``POST /v1/embeddings``."""
    return embeddings_reply(call)


def embeddings_reply(call: Call) -> JSONReply:
    """The reply to ``POST /v1/embeddings``, made at once (also the endpoint's at-once side)."""
    body = call.json_object()
    model = required_str(body, "model")
    inputs = _parse_inputs(required(body, "input"))
    encoding = optional_choice(body, "encoding_format", ("float", "base64")) or "float"
    optional_str(body, "user")
    check_model_served(call.state.config, model)
    dimensions = _parse_dimensions(body, model)
    _check_lengths(inputs)
    data = []
    for index, item in enumerate(inputs):
        vector = unit_vector(model, item.key, dimensions)
        embedding: Any = encode_base64(vector) if encoding == "base64" else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    prompt_tokens = sum(item.tokens for item in inputs)
    usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}
    return JSONReply({"object": "list", "data": data, "model": model, "usage": usage}, tokens=prompt_tokens)


def _parse_inputs(value: Any) -> list[EmbeddingInput]:
    if isinstance(value, str):
        return [_text_input(value)]
    if not isinstance(value, list):
        raise invalid_type("input", _EXPECTED_INPUT, value)
    if not value:
        raise invalid_value("input", "Invalid 'input': empty array. Expected an array with minimum length 1.")
    if len(value) > MAX_INPUTS:
        raise invalid_value(
            "input",
            f"Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, "
            f"but got an array with length {len(value)} instead.",
        )
    if all(isinstance(item, str) for item in value):
        return [_text_input(item) for item in value]
    if all(_is_token_id(item) for item in value):
        return [_token_input(value)]
    if all(isinstance(item, list) for item in value):
        return [_token_input(item) for item in value]
    raise invalid_type("input", _EXPECTED_INPUT, value)


def _text_input(text: str) -> EmbeddingInput:
    if not text:
        raise invalid_value("input", "'$.input' is invalid: an input cannot be an empty string.")
    return EmbeddingInput(key=f"text:{text}", tokens=count_tokens(text))


def _token_input(tokens: Sequence[Any]) -> EmbeddingInput:
    if not tokens:
        raise invalid_value("input", "'$.input' is invalid: a token array cannot be empty.")
    if not all(_is_token_id(token) for token in tokens):
        raise invalid_type("input", _EXPECTED_INPUT, list(tokens))
    return EmbeddingInput(key="tokens:" + ",".join(str(token) for token in tokens), tokens=len(tokens))


def _is_token_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_dimensions(body: dict[str, Any], model: str) -> int:
    native = native_dimensions(model)
    dimensions = optional_int(body, "dimensions", minimum=1, maximum=native)
    if dimensions is None:
        return native
    if model in _FIXED_SIZE_MODELS:
        raise APIErrorResponse(400, "This model does not support specifying dimensions.", param="dimensions")
    return dimensions


def _check_lengths(inputs: Sequence[EmbeddingInput]) -> None:
    for item in inputs:
        if item.tokens > MAX_INPUT_TOKENS:
            raise APIErrorResponse(
                400,
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you requested "
                f"{item.tokens} tokens ({item.tokens} in your prompt; 0 for the completion). "
                "Please reduce your prompt; or completion length.",
                param="input",
                code="context_length_exceeded",
            )
    total = sum(item.tokens for item in inputs)
    if total > MAX_REQUEST_TOKENS:
        raise APIErrorResponse(
            400,
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            param="input",
            code="max_tokens_per_request",
        )


def routes() -> list[BaseRoute]:
    return [Route("/v1/embeddings", Endpoint(create_embeddings, at_once=embeddings_reply), methods=["POST"])]
