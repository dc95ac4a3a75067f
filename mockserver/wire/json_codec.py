"""Fast JSON encoding and decoding (orjson), in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["Encoded", "JSONDecodeError", "dumps", "loads"]

JSONDecodeError = orjson.JSONDecodeError

#: compact JSON bytes, as OpenAI sends them - orjson's own function, so hot paths (a call per streamed token)
#: pay no wrapper call
dumps: Callable[[Any], bytes] = orjson.dumps


#: JSON already encoded, which :func:`dumps` writes as it is (alone, or as a value inside another)
Encoded = orjson.Fragment

#: the value of JSON bytes or text - orjson's own function, as :func:`dumps` is
loads: Callable[[bytes | str], Any] = orjson.loads
