"""Which recorded exchange answers a request: the same method, path, query and normalised body.

JSON bodies compare as values (key order does not matter) with the ignored fields taken out; a multipart body
compares with its boundary taken out (it is random per request); any other body compares byte for byte.
Identical requests recorded several times are answered in recorded order, each answer once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ..wire.json_codec import JSONDecodeError, loads
from .cassette import Interaction, RecordedRequest

__all__ = ["IncomingRequest", "Match", "Miss", "RequestPool", "normalised_body"]

_BOUNDARY = re.compile(r"boundary=\"?([^\";]+)\"?", re.IGNORECASE)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def normalised_body(raw: bytes, content_type: str, ignored: Sequence[str]) -> Any:
    """What a body is compared as: the JSON value less ``ignored`` paths, or the bytes (boundary taken out)."""
    if not raw:
        return None
    try:
        value = loads(raw)
    except JSONDecodeError:
        boundary = _BOUNDARY.search(content_type) if "multipart/" in content_type else None
        if boundary is not None:
            return raw.replace(boundary.group(1).encode(), b"<boundary>")
        return raw
    for path in ignored:
        value = _without(value, path.split("."))
    return value


def _without(value: Any, path: list[str]) -> Any:
    """``value`` with the field at ``path`` taken out (a copy where anything changes)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        if not rest:
            return {key: item for key, item in value.items() if key != head}
        return {**value, head: _without(value[head], rest)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        if not rest:
            return value[:index] + value[index + 1 :]
        return [*value[:index], _without(value[index], rest), *value[index + 1 :]]
    if isinstance(value, list) and head == "*":
        return [_without(item, rest) for item in value] if rest else []
    return value


def normalised_query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True, slots=True)
class Match:
    interaction: Interaction
    #: the cassette it came from, and its index there
    source: str


@dataclass(frozen=True, slots=True)
class Miss:
    """No unused recorded exchange matches; ``message`` names the closest recorded request and how it differs."""

    message: str


@dataclass(slots=True)
class _Entry:
    interaction: Interaction
    source: str
    key: tuple[Any, ...]
    used: bool = False


@dataclass(slots=True)
class RequestPool:
    """Recorded exchanges waiting to answer; each answers once, in recorded order."""

    ignored: tuple[str, ...] = ()
    _entries: list[_Entry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, interaction: Interaction, source: str) -> None:
        key = self._key_of_recorded(interaction.request)
        self._entries.append(_Entry(interaction, source, key))

    def _key_of_recorded(self, request: RecordedRequest) -> tuple[Any, ...]:
        content_type = next((value for name, value in request.headers.items() if name.lower() == "content-type"), "")
        body = normalised_body(request.body_bytes(), content_type, self.ignored)
        return (request.method, request.path, normalised_query(request.query), body)

    def key_of(self, request: IncomingRequest) -> tuple[Any, ...]:
        body = normalised_body(request.raw, request.content_type, self.ignored)
        return (request.method, request.path, normalised_query(request.query), body)

    def take(self, request: IncomingRequest) -> Match | Miss:
        """The first unused exchange recorded for this request (now used), or why there is none."""
        key = self.key_of(request)
        used_matches = 0
        for entry in self._entries:
            if entry.key == key:
                if not entry.used:
                    entry.used = True
                    return Match(entry.interaction, entry.source)
                used_matches += 1
        described = f"{request.method} {request.path}{'?' + request.query if request.query else ''}"
        if used_matches:
            return Miss(
                f"No recorded answer left for {described}: it was recorded {used_matches} time(s) and each "
                "recorded answer has been replayed (record it again to add answers)."
            )
        if not self._entries:
            return Miss(f"No recorded request matches {described}: there are no recorded requests.")
        closest = min(self._entries, key=lambda entry: _distance(entry.key, key))
        differences = "; ".join(_differences(closest.key, key)[:3])
        return Miss(
            f"No recorded request matches {described}. The closest recorded request ({closest.source}) differs: "
            f"{differences}."
        )


def _distance(recorded: tuple[Any, ...], wanted: tuple[Any, ...]) -> tuple[int, int]:
    method, path, query, body = (int(a != b) for a, b in zip(recorded, wanted, strict=True))
    body_differences = len(_body_differences(recorded[3], wanted[3], "")) if body else 0
    return (method * 4 + path * 4 + query + body, body_differences)


def _differences(recorded: tuple[Any, ...], wanted: tuple[Any, ...]) -> list[str]:
    found: list[str] = []
    if recorded[0] != wanted[0]:
        found.append(f"method: recorded {recorded[0]}, got {wanted[0]}")
    if recorded[1] != wanted[1]:
        found.append(f"path: recorded {recorded[1]}, got {wanted[1]}")
    if recorded[2] != wanted[2]:
        found.append(f"query: recorded {_query_text(recorded[2])!r}, got {_query_text(wanted[2])!r}")
    if recorded[3] != wanted[3]:
        found.extend(_body_differences(recorded[3], wanted[3], ""))
    return found


def _query_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return "&".join(f"{name}={value}" for name, value in pairs)


def _body_differences(recorded: Any, wanted: Any, where: str) -> list[str]:
    label = f"body.{where}" if where else "body"
    if isinstance(recorded, dict) and isinstance(wanted, dict):
        found: list[str] = []
        for key in [*recorded, *(key for key in wanted if key not in recorded)]:
            inner = f"{where}.{key}" if where else str(key)
            found.extend(_body_differences(recorded.get(key, _MISSING), wanted.get(key, _MISSING), inner))
        return found
    if isinstance(recorded, list) and isinstance(wanted, list) and len(recorded) == len(wanted):
        found = []
        for index, (left, right) in enumerate(zip(recorded, wanted, strict=True)):
            found.extend(_body_differences(left, right, f"{where}.{index}" if where else str(index)))
        return found
    if recorded == wanted:
        return []
    return [f"{label}: recorded {_short(recorded)}, got {_short(wanted)}"]


def _short(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
