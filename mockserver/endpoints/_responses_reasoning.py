"""Thinking for reasoning models (the o-series and gpt-5): a ``reasoning`` output item ahead of the answer, and
the hidden tokens it costs.

The token count is drawn from the request's key, so it is deterministic, and scaled by ``reasoning.effort``. It
counts toward ``max_output_tokens`` (as at OpenAI) but never takes more than half of it, so a capped request
still gets an answer. The item's summary is empty (no summary was asked for); ``include:
["reasoning.encrypted_content"]`` adds an opaque ``encrypted_content`` a stateless client can send back.
"""

from __future__ import annotations

import base64
import hashlib

from ._responses_input import Item
from ._responses_request import ResponsesRequest, is_reasoning_model

__all__ = ["ENCRYPTED_CONTENT", "reasoning_item", "reasoning_tokens"]

ENCRYPTED_CONTENT = "reasoning.encrypted_content"
#: how many times the base count each effort spends
_EFFORT_SCALE = {"none": 0, "minimal": 1, "low": 2, "medium": 4, "high": 8, "xhigh": 12, "max": 16}


def reasoning_tokens(request: ResponsesRequest) -> int:
    """The hidden tokens ``request`` spends thinking: 0 for models that do not reason or for effort ``none``."""
    if not is_reasoning_model(request.model):
        return 0
    base = 8 + hashlib.sha256(b"reasoning:" + request.key).digest()[0] % 25
    tokens = base * _EFFORT_SCALE[request.reasoning["effort"] or "medium"]
    if request.max_output_tokens is not None:
        tokens = min(tokens, request.max_output_tokens // 2)
    return tokens


def reasoning_item(request: ResponsesRequest, item_id: str) -> Item:
    item: Item = {"id": item_id, "type": "reasoning", "summary": []}
    if ENCRYPTED_CONTENT in request.include:
        digest = hashlib.sha256(item_id.encode() + b"\0" + request.key).digest()
        item["encrypted_content"] = "gAAAAA" + base64.urlsafe_b64encode(digest * 3).decode("ascii")
    return item
