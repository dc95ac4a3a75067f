"""The base of every response object: a msgspec Struct that ignores unknown fields and tolerates missing ones."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["APIObject"]


class APIObject(msgspec.Struct, kw_only=True):
    """Attribute access like the SDK's models; ``to_dict()`` / ``model_dump()`` give plain JSON-able data."""

    def to_dict(self, *, exclude_none: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        if exclude_none:
            return _without_none(data)
        return data

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        return self.to_dict(exclude_none=exclude_none)

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    def model_dump_json(self) -> str:
        return self.to_json()


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = _without_none(value)
        elif isinstance(value, list):
            value = [_without_none(item) if isinstance(item, dict) else item for item in value]
        cleaned[key] = value
    return cleaned
