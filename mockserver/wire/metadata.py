"""``metadata``: the up-to-16 string pairs OpenAI lets callers attach to objects, and the list filter on them.

A list filters with query parameters ``metadata[key]=value`` (how the SDK encodes a ``metadata={...}`` argument);
an item matches when it carries every one of those pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import invalid_type, invalid_value

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_PAIRS",
    "MAX_VALUE_LENGTH",
    "matches_metadata",
    "metadata_filter",
    "parse_metadata",
]

MAX_PAIRS = 16
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 512


def parse_metadata(body: Mapping[str, Any], name: str = "metadata") -> dict[str, str] | None:
    """The validated ``metadata`` of a request body (``None`` when absent or null)."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type(name, "an object", value)
    if len(value) > MAX_PAIRS:
        raise invalid_value(
            name, f"Invalid '{name}': too many properties. Expected an object with at most {MAX_PAIRS} properties."
        )
    for key, item in value.items():
        if len(key) > MAX_KEY_LENGTH:
            raise invalid_value(
                name, f"Invalid '{name}': key '{key[:20]}...' is longer than the maximum of {MAX_KEY_LENGTH}."
            )
        if not isinstance(item, str):
            raise invalid_type(f"{name}.{key}", "a string", item)
        if len(item) > MAX_VALUE_LENGTH:
            raise invalid_value(
                name, f"Invalid '{name}.{key}': string too long. Expected at most {MAX_VALUE_LENGTH} characters."
            )
    return dict(value)


def metadata_filter(params: Mapping[str, str]) -> dict[str, str]:
    """The ``metadata[key]=value`` pairs of a list request's query."""
    wanted: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith("metadata[") and key.endswith("]"):
            wanted[key[len("metadata[") : -1]] = value
    return wanted


def matches_metadata(item: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """True when ``item``'s metadata has every pair of ``wanted``."""
    metadata = item.get("metadata") or {}
    return all(metadata.get(key) == value for key, value in wanted.items())
