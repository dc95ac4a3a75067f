"""The ``input`` of a Responses API request: validated, and normalised into the items ``input_items`` lists.

A plain string becomes one user message. Messages (``{"role", "content"}``, with or without ``"type":
"message"``), ``function_call``, ``function_call_output`` and (sent back) ``reasoning`` items are accepted;
every item gets an id and a ``status`` and string content becomes content parts, which is the shape OpenAI
lists input items in. The same normalised items form the conversation (:mod:`._responses_transcript`) that a
later ``previous_response_id`` continues."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..wire.errors import invalid_type, invalid_value, missing_parameter

__all__ = ["Item", "NewId", "normalise_input"]

Item = dict[str, Any]
#: draws a fresh id with the given prefix (``"msg_"``, ``"fc_"``...)
NewId = Callable[[str], str]

_ROLES = ("user", "assistant", "system", "developer")
_ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning")
_INPUT_PART_TYPES = ("input_text", "input_image", "input_file")
_ASSISTANT_PART_TYPES = ("output_text", "refusal")
_IMAGE_DETAILS = ("low", "high", "auto", "original")


def normalise_input(value: Any, new_id: NewId) -> list[Item]:
    """The request's ``input`` as listable items (raises OpenAI-shaped 400s on bad input)."""
    if isinstance(value, str):
        return [_message({"role": "user", "content": value}, "input", new_id)]
    if not isinstance(value, list):
        raise invalid_type("input", "a string or an array of input items", value)
    return [_item(item, f"input[{index}]", new_id) for index, item in enumerate(value)]


def _item(item: Any, where: str, new_id: NewId) -> Item:
    if not isinstance(item, dict):
        raise invalid_type(where, "an object", item)
    kind = item.get("type", "message" if "role" in item else None)
    if kind is None:
        raise missing_parameter(f"{where}.type")
    if kind not in _ITEM_TYPES:
        raise invalid_value(f"{where}.type", _unsupported(kind, _ITEM_TYPES))
    if kind == "message":
        return _message(item, where, new_id)
    if kind == "reasoning":
        return _reasoning(item, where)
    call_id = _text_field(item, "call_id", where)
    if kind == "function_call":
        return {
            "id": _optional_id(item, where) or new_id("fc_"),
            "type": "function_call",
            "status": "completed",
            "arguments": _text_field(item, "arguments", where, allow_empty=True),
            "call_id": call_id,
            "name": _text_field(item, "name", where),
        }
    output = item.get("output")
    if isinstance(output, list):
        output = _parts(output, f"{where}.output", _INPUT_PART_TYPES)
    elif not isinstance(output, str):
        raise (
            missing_parameter(f"{where}.output")
            if output is None
            else invalid_type(f"{where}.output", "a string", output)
        )
    return {
        "id": _optional_id(item, where) or new_id("fco_"),
        "type": "function_call_output",
        "status": "completed",
        "call_id": call_id,
        "output": output,
    }


def _reasoning(item: Mapping[str, Any], where: str) -> Item:
    """A reasoning item sent back (it must keep the id OpenAI gave it)."""
    summary = item.get("summary")
    if not isinstance(summary, list):
        raise (
            missing_parameter(f"{where}.summary")
            if summary is None
            else invalid_type(f"{where}.summary", "an array", summary)
        )
    parts = []
    for index, part in enumerate(summary):
        part_where = f"{where}.summary[{index}]"
        if not isinstance(part, dict):
            raise invalid_type(part_where, "an object", part)
        if part.get("type") != "summary_text":
            raise invalid_value(f"{part_where}.type", _unsupported(part.get("type"), ("summary_text",)))
        parts.append({"type": "summary_text", "text": _text_field(part, "text", part_where, allow_empty=True)})
    normalised: Item = {"id": _text_field(item, "id", where), "type": "reasoning", "summary": parts}
    encrypted = item.get("encrypted_content")
    if encrypted is not None:
        if not isinstance(encrypted, str):
            raise invalid_type(f"{where}.encrypted_content", "a string", encrypted)
        normalised["encrypted_content"] = encrypted
    return normalised


def _message(item: Mapping[str, Any], where: str, new_id: NewId) -> Item:
    role = item.get("role")
    if role is None:
        raise missing_parameter(f"{where}.role")
    if role not in _ROLES:
        raise invalid_value(f"{where}.role", _unsupported(role, _ROLES))
    content = item.get("content")
    allowed = _ASSISTANT_PART_TYPES if role == "assistant" else _INPUT_PART_TYPES
    if isinstance(content, str):
        text_type = "output_text" if role == "assistant" else "input_text"
        parts = [_part({"type": text_type, "text": content}, f"{where}.content", allowed)]
    elif isinstance(content, list):
        parts = _parts(content, f"{where}.content", allowed)
    elif content is None:
        raise missing_parameter(f"{where}.content")
    else:
        raise invalid_type(f"{where}.content", "a string or an array of content parts", content)
    return {
        "id": _optional_id(item, where) or new_id("msg_"),
        "type": "message",
        "role": role,
        "status": "completed",
        "content": parts,
    }


def _parts(parts: list[Any], where: str, allowed: tuple[str, ...]) -> list[Item]:
    return [_part(part, f"{where}[{index}]", allowed) for index, part in enumerate(parts)]


def _part(part: Any, where: str, allowed: tuple[str, ...]) -> Item:
    if not isinstance(part, dict):
        raise invalid_type(where, "an object", part)
    kind = part.get("type")
    if kind not in allowed:
        raise (
            missing_parameter(f"{where}.type")
            if kind is None
            else invalid_value(f"{where}.type", _unsupported(kind, allowed))
        )
    if kind == "input_text":
        return {"type": "input_text", "text": _text_field(part, "text", where, allow_empty=True)}
    if kind == "output_text":
        return {"type": "output_text", "text": _text_field(part, "text", where, allow_empty=True), "annotations": []}
    if kind == "refusal":
        return {"type": "refusal", "refusal": _text_field(part, "refusal", where, allow_empty=True)}
    if kind == "input_image":
        detail = part.get("detail", "auto")
        if detail not in _IMAGE_DETAILS:
            raise invalid_value(f"{where}.detail", _unsupported(detail, _IMAGE_DETAILS))
        return {"type": "input_image", "detail": detail, **_one_source(part, where, ("image_url", "file_id"))}
    sources = _one_source(part, where, ("file_id", "file_data", "file_url"))
    filename = part.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise invalid_type(f"{where}.filename", "a string", filename)
    return {"type": "input_file", **sources, **({"filename": filename} if filename is not None else {})}


def _one_source(part: Mapping[str, Any], where: str, names: tuple[str, ...]) -> Item:
    given = {name: part[name] for name in names if part.get(name) is not None}
    if not given:
        raise missing_parameter(f"{where}.{names[0]}")
    for name, value in given.items():
        if not isinstance(value, str):
            raise invalid_type(f"{where}.{name}", "a string", value)
    return given


def _text_field(item: Mapping[str, Any], name: str, where: str, *, allow_empty: bool = False) -> str:
    value = item.get(name)
    if value is None:
        raise missing_parameter(f"{where}.{name}")
    if not isinstance(value, str):
        raise invalid_type(f"{where}.{name}", "a string", value)
    if not value and not allow_empty:
        raise invalid_value(f"{where}.{name}", f"Invalid '{where}.{name}': empty string.")
    return value


def _optional_id(item: Mapping[str, Any], where: str) -> str | None:
    value = item.get("id")
    if value is not None and not isinstance(value, str):
        raise invalid_type(f"{where}.id", "a string", value)
    return value or None


def _unsupported(value: Any, allowed: tuple[str, ...]) -> str:
    return f"Invalid value: '{value}'. Supported values are: " + ", ".join(f"'{choice}'" for choice in allowed) + "."
