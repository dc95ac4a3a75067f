"""A small deterministic tokenizer: BPE-like pieces for counting usage and for streaming text token by token.

It is not OpenAI's tokenizer; it gives pieces of the same flavour (a word with its leading space, a run of
punctuation, up to three digits, a run of whitespace) so that counts are plausible and ``"".join(pieces)`` is
always the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "ATTACHMENT_TOKENS",
    "IMAGE_TOKENS",
    "LONGEST_PIECE",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "count_message_tokens",
    "count_tokens",
    "iter_tokens",
    "split_tokens",
    "text_message_tokens",
]

#: tokens every chat message costs besides its content (role and separators), as OpenAI's cookbook counts them
MESSAGE_OVERHEAD_TOKENS = 3
#: tokens that prime the assistant's reply, added once per request
REPLY_PRIMING_TOKENS = 3
#: what an image content part costs (OpenAI's "low detail" price)
IMAGE_TOKENS = 85
#: what an audio or file content part costs (a flat, plausible figure)
ATTACHMENT_TOKENS = 50
#: words longer than this are split into several pieces, as BPE splits rare long words
LONGEST_PIECE = 12

_PIECE = re.compile(
    r"""'(?:s|t|re|ve|m|ll|d)(?![^\W\d_])"""  # English contractions
    r"""| ?[^\W\d_]+"""  # a word, with its leading space
    r"""| ?\d{1,3}"""  # up to three digits
    r"""| ?[^\s\w]+"""  # a run of punctuation
    r"""| ?_+"""  # underscores (word characters that are not letters)
    r"""|\s+(?!\S)"""  # whitespace that does not lead into a word
    r"""|\s+""",
)
#: whitespace as ``\s`` matches it in ASCII text (``\x1c``-``\x1f`` too)
_ASCII_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f "
#: punctuation in ASCII text: neither whitespace nor a word character
_ASCII_PUNCTUATION = rf"[^{_ASCII_SPACE}A-Za-z0-9_]"
#: what a piece that starts with a space holds after it, at most
_AFTER_SPACE = LONGEST_PIECE - 1
#: the final pieces of ASCII text: :data:`_PIECE`'s classes spelled as ASCII ranges, its long pieces split in the
#: pattern (a run's first piece with its leading space, then pieces of :data:`LONGEST_PIECE` characters), the
#: alternatives that begin with a space first (a contraction never follows punctuation here, so a split run of
#: punctuation is not taken for one)
_ASCII_PIECE = re.compile(
    rf""" (?:[A-Za-z]{{1,{_AFTER_SPACE}}}|[0-9]{{1,3}}"""
    rf"""|{_ASCII_PUNCTUATION}{{1,{_AFTER_SPACE}}}|_{{1,{_AFTER_SPACE}}})"""
    rf"""|[A-Za-z]{{1,{LONGEST_PIECE}}}"""
    r"""|[0-9]{1,3}"""
    rf"""|(?<!{_ASCII_PUNCTUATION})'(?:s|t|re|ve|m|ll|d)(?![A-Za-z])"""
    rf"""|{_ASCII_PUNCTUATION}{{1,{LONGEST_PIECE}}}"""
    rf"""|_{{1,{LONGEST_PIECE}}}"""
    rf"""|[{_ASCII_SPACE}]{{1,{LONGEST_PIECE}}}(?![^{_ASCII_SPACE}])"""
    rf"""|[{_ASCII_SPACE}]""",
)


#: what the fast count of ASCII text (:func:`count_tokens`) leaves to the pattern: an apostrophe (which may start a
#: contraction), an underscore, whitespace other than a space
_LEFT_TO_PATTERN = ord("!")


def _ascii_class(code: int) -> int:
    """The class of an ASCII character as a hexadecimal digit of one bit: a letter ``1``, a digit ``2``, punctuation
    ``4``, a space ``0`` (it leads the piece after it); else :data:`_LEFT_TO_PATTERN`."""
    if code == 0x20:
        return ord("0")
    if chr(code) in "'_" or chr(code).isspace():
        return _LEFT_TO_PATTERN
    return ord("1") if chr(code).isalpha() else ord("2") if chr(code).isdigit() else ord("4")


#: every byte's class (a byte past ASCII is never looked up: the text is ASCII)
_ASCII_CLASSES = bytes(_ascii_class(code) if code < 0x80 else _LEFT_TO_PATTERN for code in range(256))


def _split_long(found: list[str]) -> list[str]:
    """``found`` with every piece longer than :data:`LONGEST_PIECE` cut into pieces that long (and the rest)."""
    if not found or max(map(len, found)) <= LONGEST_PIECE:
        return found
    pieces: list[str] = []
    for piece in found:
        while len(piece) > LONGEST_PIECE:
            pieces.append(piece[:LONGEST_PIECE])
            piece = piece[LONGEST_PIECE:]
        pieces.append(piece)
    return pieces


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into token pieces; ``"".join(split_tokens(text)) == text``."""
    if text.isascii():
        found: list[str] = _ASCII_PIECE.findall(text)
        return found
    return _split_long(_PIECE.findall(text))


def iter_tokens(text: str) -> Iterator[str]:
    """``split_tokens(text)`` one piece at a time, holding none of the others (for streaming a long text)."""
    if text.isascii():
        for match in _ASCII_PIECE.finditer(text):
            yield match.group()
        return
    for match in _PIECE.finditer(text):
        piece = match.group()
        while len(piece) > LONGEST_PIECE:
            yield piece[:LONGEST_PIECE]
            piece = piece[LONGEST_PIECE:]
        yield piece


def count_tokens(text: str) -> int:
    """``len(split_tokens(text))``, without building the split pieces."""
    if text.isascii():
        # ASCII text of letters, digits, punctuation and single spaces (the common text) is counted without the
        # pattern: its pieces are the runs of one class, each led by the space before it, a run of digits a piece
        # per three. So with each character's class a hexadecimal digit of one bit (:data:`_ASCII_CLASSES`) and a
        # run's second and third digits of every three cleared, the pieces are the digits whose bit the one before
        # lacks: the set bits of ``x & ~(x >> 4)``. A run of twelve letters or punctuation, split in pieces of a
        # length, goes to the pattern (four steps: the digits that begin two, four, then twelve of one class)
        classes = text.encode().translate(_ASCII_CLASSES)
        if not text or _LEFT_TO_PATTERN in classes or "  " in text or text[-1] == " ":
            return len(_ASCII_PIECE.findall(text))
        x = int(classes.replace(b"222", b"200"), 16)
        two = x & (x >> 4)
        four = two & (two >> 8)
        if not four & (four >> 16) & (four >> 32):
            # ``x & ~(x >> 4)`` is ``x ^ two`` (``two`` holds only bits of ``x``): one step, not three
            return (x ^ two).bit_count()
        return len(_ASCII_PIECE.findall(text))
    found: list[str] = _PIECE.findall(text)
    if not found or max(map(len, found)) <= LONGEST_PIECE:
        return len(found)
    return sum(-(-len(piece) // LONGEST_PIECE) for piece in found)


#: the tokens of the chat roles, counted once (every message has one)
_ROLE_TOKENS = {role: count_tokens(role) for role in ("system", "assistant", "user", "function", "tool", "developer")}


def count_message_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of a chat request: per-message overhead plus each field's tokens, plus reply priming."""
    total = REPLY_PRIMING_TOKENS
    role_tokens = _ROLE_TOKENS.get
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS
        for name, value in message.items():
            if name == "content":
                total += _content_tokens(value)
            elif name == "tool_calls" and isinstance(value, list):
                total += sum(_tool_call_tokens(call) for call in value)
            elif isinstance(value, str):
                known = role_tokens(value) if name == "role" else None
                total += (known if known is not None else count_tokens(value)) + (1 if name == "name" else 0)
    return total


def text_message_tokens(role: str, content: str, name: str | None = None) -> int:
    """What :func:`count_message_tokens` counts for a message of only a role, text content and perhaps a name (the
    same number, without looking through a mapping); add :data:`REPLY_PRIMING_TOKENS` once per request."""
    known = _ROLE_TOKENS.get(role)
    tokens = MESSAGE_OVERHEAD_TOKENS + (known if known is not None else count_tokens(role)) + count_tokens(content)
    return tokens if name is None else tokens + count_tokens(name) + 1


def _content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return count_tokens(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind == "image_url":
            total += IMAGE_TOKENS
        elif kind in ("input_audio", "file"):
            total += ATTACHMENT_TOKENS
        else:
            text = part.get("text", part.get("refusal"))
            total += count_tokens(text) if isinstance(text, str) else 0
    return total


def _tool_call_tokens(call: Any) -> int:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping):
        return 0
    return sum(count_tokens(value) for value in function.values() if isinstance(value, str))
