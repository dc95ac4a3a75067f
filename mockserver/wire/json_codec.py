"""Fast JSON encoding and decoding (orjson), in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["JSONDecodeError", "dumps", "loads"]

JSONDecodeError = orjson.JSONDecodeError

#: compact JSON bytes, as OpenAI sends them - orjson's own function, so hot paths (a call per streamed token)
#: pay no wrapper call
dumps: Callable[[Any], bytes] = orjson.dumps


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
