"""The size rules OpenAI enforces on generation requests, with its 400s: how many tools, how large and deep a JSON
schema, how many prompts and choices, and how many tokens a reply may ask for.

Each check walks what it checks once (linear in the request), and each limit is a module constant or, for the
output, the model's limit from the config (``output_token_limits``), so a request the real API would refuse is
refused here before anything is generated for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, invalid_value

__all__ = [
    "MAX_CHOICES",
    "MAX_ENUM_VALUES",
    "MAX_PROMPTS",
    "MAX_SCHEMA_DEPTH",
    "MAX_SCHEMA_PROPERTIES",
    "MAX_TOOLS",
    "check_choices",
    "check_max_tokens",
    "check_prompt_count",
    "check_schema",
    "check_tool_count",
]

#: tools one request may offer
MAX_TOOLS = 128
#: prompts one legacy completions request may hold
MAX_PROMPTS = 2048
#: choices one legacy completions request may ask for (``n`` times the number of prompts)
MAX_CHOICES = 2048
#: levels of nesting in a JSON schema (structured outputs and function parameters)
MAX_SCHEMA_DEPTH = 10
#: object properties in a JSON schema, counted over the whole schema
MAX_SCHEMA_PROPERTIES = 5000
#: ``enum`` values in a JSON schema, counted over the whole schema
MAX_ENUM_VALUES = 1000

#: keywords whose value is one subschema, and those whose value maps names (or holds a list) of subschemas
_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_LISTED = ("prefixItems", "anyOf", "oneOf", "allOf")
#: keywords that only choose among or name schemas, without nesting a value in another
_SAME_LEVEL = frozenset({"anyOf", "oneOf", "allOf", "$defs", "definitions", "not", "if", "then", "else"})


def _array_too_long(param: str, limit: int, length: int) -> APIErrorResponse:
    return APIErrorResponse(
        400,
        f"Invalid '{param}': array too long. Expected an array with maximum length {limit}, "
        f"but got an array with length {length} instead.",
        param=param,
        code="array_above_max_length",
    )


def check_tool_count(tools: Any, param: str = "tools") -> None:
    if isinstance(tools, list) and len(tools) > MAX_TOOLS:
        raise _array_too_long(param, MAX_TOOLS, len(tools))


def check_prompt_count(prompts: list[str]) -> None:
    if len(prompts) > MAX_PROMPTS:
        raise _array_too_long("prompt", MAX_PROMPTS, len(prompts))


def check_choices(n: int, prompts: int) -> None:
    """``n`` choices for each of ``prompts`` prompts, at most :data:`MAX_CHOICES` in all."""
    if n * prompts > MAX_CHOICES:
        raise invalid_value(
            "n",
            f"Invalid 'n': {n} choices for each of {prompts} prompts make {n * prompts} completions; "
            f"a request may ask for at most {MAX_CHOICES}.",
        )


def check_max_tokens(state: ServerState, model: str, value: int | None, param: str) -> int:
    """The model's output limit, after checking that ``value`` (the request's own limit) is within it."""
    limit = state.config.output_token_limit(model)
    if value is not None and value > limit:
        raise invalid_value(
            param,
            f"{param} is too large: {value}. This model supports at most {limit} completion tokens, "
            f"whereas you provided {value}.",
        )
    return limit


def check_schema(schema: Any, *, owner: str, param: str) -> None:
    """A JSON schema within OpenAI's size rules; ``owner`` says whose it is (``response_format 'name'``,
    ``function 'name'``), as the error message does."""
    if not isinstance(schema, Mapping):
        return
    properties = 0
    enum_values = 0
    deepest = 0
    # (schema, level) pairs still to look at: iterative, so a deep schema cannot exhaust the stack
    pending: list[tuple[Any, int]] = [(schema, 1)]
    while pending:
        node, level = pending.pop()
        if not isinstance(node, Mapping):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_SCHEMA_DEPTH:
            raise _bad_schema(owner, param, f"{deepest} levels of nesting exceeds limit of {MAX_SCHEMA_DEPTH}.")
        enum = node.get("enum")
        if isinstance(enum, list):
            enum_values += len(enum)
        for keyword in _NAMED:
            named = node.get(keyword)
            if isinstance(named, Mapping):
                if keyword == "properties":
                    properties += len(named)
                step = 0 if keyword in _SAME_LEVEL else 1
                pending.extend((child, level + step) for child in named.values())
        for keyword in _LISTED:
            listed = node.get(keyword)
            if isinstance(listed, list):
                step = 0 if keyword in _SAME_LEVEL else 1
                pending.extend((child, level + step) for child in listed)
        for keyword in _ONE:
            child = node.get(keyword)
            if isinstance(child, Mapping):
                pending.append((child, level + (0 if keyword in _SAME_LEVEL else 1)))
    if properties > MAX_SCHEMA_PROPERTIES:
        raise _bad_schema(
            owner, param, f"{properties} total object properties exceeds limit of {MAX_SCHEMA_PROPERTIES}."
        )
    if enum_values > MAX_ENUM_VALUES:
        raise _bad_schema(owner, param, f"{enum_values} total enum values exceeds limit of {MAX_ENUM_VALUES}.")


def _bad_schema(owner: str, param: str, problem: str) -> APIErrorResponse:
    return APIErrorResponse(400, f"Invalid schema for {owner}: {problem}", param=param, code="invalid_value")
