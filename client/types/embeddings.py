"""Embeddings objects."""

from __future__ import annotations

from ._base import APIObject

__all__ = ["CreateEmbeddingResponse", "Embedding", "EmbeddingUsage"]


class Embedding(APIObject):
    object: str = "embedding"
    index: int = 0
    #: floats; a base64 string only when the caller asked for ``encoding_format="base64"``
    embedding: list[float] | str = []


class EmbeddingUsage(APIObject):
    prompt_tokens: int = 0
    total_tokens: int = 0


class CreateEmbeddingResponse(APIObject):
    object: str = "list"
    data: list[Embedding] = []
    model: str = ""
    usage: EmbeddingUsage | None = None
