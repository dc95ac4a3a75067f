"""Request-field checks that answer bad input the way OpenAI does (400, with ``param`` and ``code``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .errors import invalid_type, invalid_value, missing_parameter

__all__ = [
    "optional_bool",
    "optional_choice",
    "optional_int",
    "optional_list",
    "optional_number",
    "optional_object",
    "optional_str",
    "required",
    "required_str",
]

_MISSING = object()


def required(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        raise missing_parameter(name)
    return value


def required_str(body: Mapping[str, Any], name: str) -> str:
    value = required(body, name)
    if not isinstance(value, str):
        raise invalid_type(name, "a string", value)
    if not value:
        raise invalid_value(name, f"Invalid '{name}': empty string. Expected a string with minimum length 1.")
    return value


def optional_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_type(name, "a string", value)
    return value


def optional_bool(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_type(name, "a boolean", value)
    return value


def optional_int(
    body: Mapping[str, Any], name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(name, "an integer", value)
    _check_range(name, value, minimum, maximum)
    return value


def optional_number(
    body: Mapping[str, Any], name: str, *, minimum: float | None = None, maximum: float | None = None
) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_type(name, "a number", value)
    _check_range(name, value, minimum, maximum)
    return float(value)


def optional_choice(body: Mapping[str, Any], name: str, choices: Collection[str]) -> str | None:
    value = optional_str(body, name)
    if value is not None and value not in choices:
        allowed = ", ".join(f"'{choice}'" for choice in choices)
        raise invalid_value(name, f"Invalid value: '{value}'. Supported values are: {allowed}.")
    return value


def optional_list(body: Mapping[str, Any], name: str) -> list[Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, list):
        raise invalid_type(name, "an array", value)
    return value


def optional_object(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise invalid_type(name, "an object", value)
    return value


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise invalid_value(
            name, f"Invalid '{name}': {_fmt(value)} is less than the minimum of {_fmt(minimum)} - '{name}'"
        )
    if maximum is not None and value > maximum:
        raise invalid_value(
            name, f"Invalid '{name}': {_fmt(value)} is greater than the maximum of {_fmt(maximum)} - '{name}'"
        )


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
