"""How many tokens a request will cost, estimated before it runs (for the TPM bucket), as OpenAI estimates it:
the prompt's tokens plus the most it may generate (``max_tokens`` and friends, times ``n``) when it says so.

The real count (``Reply.tokens``) corrects the estimate after the reply (``RateLimiter.record``).
"""

from __future__ import annotations

from typing import Any

from ..content.tokenizer import count_message_tokens, count_tokens

__all__ = ["estimate_tokens"]

_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")
_TEXT_FIELDS = ("prompt", "input", "instructions")


def _text_tokens(value: Any) -> int:
    if isinstance(value, str):
        return count_tokens(value)
    if isinstance(value, list):
        return sum(_text_tokens(item) if not isinstance(item, int) else 1 for item in value)
    if isinstance(value, dict):
        return sum(_text_tokens(item) for item in value.values())
    return 0


def estimate_tokens(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    messages = body.get("messages")
    prompt = sum(_text_tokens(body.get(name)) for name in _TEXT_FIELDS)
    if isinstance(messages, list):
        prompt += count_message_tokens(item for item in messages if isinstance(item, dict))
    limit = next((body[name] for name in _LIMIT_FIELDS if isinstance(body.get(name), int)), 0)
    n = body.get("n")
    choices = n if isinstance(n, int) and n > 0 else 1
    return prompt + max(0, limit) * choices
