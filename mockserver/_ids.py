"""Object ids in OpenAI's formats, drawn from a seeded generator so a run replays exactly."""

from __future__ import annotations

import random
import string

__all__ = ["IdFactory"]

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


class IdFactory:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")

    def token(self, length: int, alphabet: str = _ALNUM) -> str:
        return "".join(self._rng.choices(alphabet, k=length))

    def new(self, prefix: str, length: int = 24, alphabet: str = _ALNUM) -> str:
        """``prefix`` followed by ``length`` random characters, e.g. ``new("chatcmpl-", 29)``."""
        return prefix + self.token(length, alphabet)

    def hex(self, prefix: str, length: int) -> str:
        return self.new(prefix, length, _HEX)

    def request_id(self) -> str:
        return self.hex("req_", 32)
