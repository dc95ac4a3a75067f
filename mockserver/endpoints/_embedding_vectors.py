"""Deterministic, unit-length embedding vectors and their two wire encodings (JSON floats and base64 float32).

A vector depends only on the model and the input (not on the server's seed), so the same text embeds to the
same vector in every run, as it does at OpenAI. Each vector is drawn at the model's native size; asking for fewer
``dimensions`` keeps the leading components and re-normalises them, the way OpenAI's shortened embeddings work.
Components are rounded to float32 before they are sent, so the ``float`` and ``base64`` encodings of one vector
decode to exactly the same numbers.
"""

from __future__ import annotations

import base64
import math
import random
import sys
from array import array

__all__ = ["encode_base64", "native_dimensions", "unit_vector"]

_NATIVE_DIMENSIONS = {"text-embedding-3-large": 3072}
_DEFAULT_DIMENSIONS = 1536


def native_dimensions(model: str) -> int:
    """The length of ``model``'s full vectors: 3072 for text-embedding-3-large, 1536 for the rest."""
    return _NATIVE_DIMENSIONS.get(model, _DEFAULT_DIMENSIONS)


def unit_vector(model: str, key: str, dimensions: int) -> array[float]:
    """The first ``dimensions`` components of the vector for (``model``, ``key``), scaled to length 1, as float32."""
    rng = random.Random(f"embedding\0{model}\0{key}")
    # uniform 16-bit components: drawn in C, several times faster than gauss() for 1536-3072 of them
    components = array("h", rng.randbytes(2 * native_dimensions(model)))[:dimensions]
    scale = 1.0 / (math.hypot(*components) or 1.0)
    return array("f", [value * scale for value in components])


def encode_base64(vector: array[float]) -> str:
    """Little-endian float32 bytes, base64 text: the ``encoding_format: "base64"`` form."""
    if sys.byteorder == "big":  # pragma: no cover - every platform we run on is little-endian
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")
