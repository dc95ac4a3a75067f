"""Object ids in OpenAI's formats, drawn from a seeded generator so a run replays exactly.

Ids are cut from random bytes (one byte per character, mapped through a table) rather than drawn a character at a
time: they are made on every request, and this is many times cheaper.
"""

from __future__ import annotations

import random
import string

__all__ = ["IdFactory"]

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


def _byte_table(alphabet: str) -> bytes:
    """Maps every byte value to a character of ``alphabet`` (near-uniformly: 256 is not always a multiple)."""
    return bytes(ord(alphabet[value % len(alphabet)]) for value in range(256))


_ALNUM_TABLE = _byte_table(_ALNUM)


class IdFactory:
    def __init__(self, seed: int, *, salt: str = "") -> None:
        #: ``salt`` sets apart the sequences of processes that share one seed (and one shared state)
        self._rng = random.Random(f"ids:{seed}{salt}")

    def token(self, length: int, alphabet: str = _ALNUM) -> str:
        """``length`` random characters of ``alphabet``."""
        # ``getrandbits(8 * n).to_bytes(n, "little")`` is what ``Random.randbytes(n)`` returns (its definition in
        # Python 3.11, which the C version of later Pythons keeps), without its Python frame: the same ids
        table = _ALNUM_TABLE if alphabet == _ALNUM else _byte_table(alphabet)
        return self._rng.getrandbits(8 * length).to_bytes(length, "little").translate(table).decode("latin-1")

    def new(self, prefix: str, length: int = 24, alphabet: str = _ALNUM) -> str:
        """``prefix`` followed by ``length`` random characters, e.g. ``new("chatcmpl-", 29)``."""
        return prefix + self.token(length, alphabet)

    def hex(self, prefix: str, length: int) -> str:
        """``prefix`` followed by ``length`` random hex digits (drawn as :meth:`token` draws its bytes)."""
        size = (length + 1) // 2
        return prefix + self._rng.getrandbits(8 * size).to_bytes(size, "little").hex()[:length]

    def request_id(self) -> str:
        return self.hex("req_", 32)
