"""``client.embeddings.create``: asks for base64 unless told otherwise (as the SDK does) and decodes it to floats."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

import array
import base64
import sys
from collections.abc import Mapping
from typing import Any

import msgspec

from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutLike
from ..types.embeddings import CreateEmbeddingResponse
from ._base import APIResource, Extras

__all__ = ["Embeddings", "floats_from_base64"]

_RESPONSE = msgspec.json.Decoder(CreateEmbeddingResponse)


def floats_from_base64(encoded: str) -> list[float]:
    """Little-endian float32 values, as the API encodes them."""
    values = array.array("f")
    values.frombytes(base64.b64decode(encoded))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


class Embeddings(APIResource):
    async def create(
        self,
        *,
        input: str | list[str] | list[int] | list[list[int]],
        model: str,
        encoding_format: str | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> CreateEmbeddingResponse:
        """Embed ``input``; ``dimensions=`` and ``user=`` pass through. Without ``encoding_format`` the vectors
        travel as base64 and are returned as lists of floats; with ``"base64"`` they stay strings."""
        decode_base64 = isinstance(encoding_format, NotGiven)
        body = {"input": input, "model": model, "encoding_format": "base64" if decode_base64 else encoding_format}
        body.update(params)
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        result = await self._fetch(self._call("POST", "/embeddings", extras, json=body), _RESPONSE)
        if decode_base64:
            for item in result.data:
                if isinstance(item.embedding, str):
                    item.embedding = floats_from_base64(item.embedding)
        return result
