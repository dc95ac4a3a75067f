"""A ``POST /v1/responses`` body, validated the way OpenAI validates it, as one frozen value.

Fields keep the form the response object echoes back (``tools``, ``tool_choice``, ``text``, ``reasoning``...),
already defaulted. Unknown top-level parameters are rejected (``unknown_parameter``) as OpenAI does; documented
parameters this fake does not act on (``prompt_cache_key``, ``prompt``...) are accepted and ignored.
Only function tools are supported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from ..config.settings import ServerConfig
from ..wire.errors import APIErrorResponse, invalid_type, invalid_value
from ..wire.fields import (
    optional_bool,
    optional_choice,
    optional_int,
    optional_list,
    optional_number,
    optional_object,
    optional_str,
    required,
    required_str,
)
from ..wire.metadata import parse_metadata
from ._generation_fields import REASONING_EFFORTS, SERVICE_TIERS
from ._request_limits import check_schema, check_tool_count
from .models import check_model_served

__all__ = ["REASONING_MODEL_PREFIXES", "ResponsesRequest", "is_reasoning_model", "parse_request"]

#: every parameter of the create call (the SDK's ``ResponseCreateParams``, plus ``stream``)
KNOWN_PARAMETERS = frozenset(
    {
        "access_programs", "background", "background_options", "context_management", "conversation", "image",
        "include", "input", "instructions", "max_output_tokens", "max_tool_calls", "metadata", "model",
        "moderation", "parallel_tool_calls", "previous_response_id", "prompt", "prompt_cache_key",
        "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
        "stream", "stream_options", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p",
        "truncation", "user",
    }
)  # fmt: skip
#: OpenAI's floor for ``max_output_tokens``
MIN_OUTPUT_TOKENS = 16
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SUMMARIES = ("auto", "concise", "detailed")
REASONING_MODEL_PREFIXES = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A valid create request, with every optional field defaulted as OpenAI defaults it."""

    model: str
    #: the raw ``input`` (normalised into items by the handler, which owns the id generator)
    input: Any
    instructions: str | None
    max_output_tokens: int | None
    max_tool_calls: int | None
    temperature: float
    top_p: float
    top_logprobs: int
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    text: dict[str, Any]
    reasoning: dict[str, Any]
    truncation: str
    metadata: dict[str, str]
    previous_response_id: str | None
    store: bool
    stream: bool
    background: bool
    service_tier: str
    user: str | None
    safety_identifier: str | None
    prompt_cache_key: str | None
    #: extra output asked for, e.g. ``reasoning.encrypted_content``
    include: tuple[str, ...]
    #: canonical bytes of the body without ``stream``/``stream_options``: the content engine's key
    key: bytes

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The schema the output text must follow: json_schema's schema, ``{}`` for json_object, else None."""
        format_ = self.text["format"]
        if format_["type"] == "json_schema":
            schema: dict[str, Any] = format_["schema"]
            return schema
        return {} if format_["type"] == "json_object" else None

    @property
    def generation_tool_choice(self) -> str:
        """``tool_choice`` as the content engine takes it: a mode or the one tool's name."""
        if isinstance(self.tool_choice, dict):
            name: str = self.tool_choice["name"]
            return name
        return self.tool_choice


def parse_request(body: dict[str, Any], config: ServerConfig) -> ResponsesRequest:
    for name in body:
        if name not in KNOWN_PARAMETERS:
            raise APIErrorResponse(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    model = required_str(body, "model")
    raw_input = required(body, "input")
    request = ResponsesRequest(
        model=model,
        input=raw_input,
        instructions=optional_str(body, "instructions"),
        max_output_tokens=optional_int(body, "max_output_tokens", minimum=MIN_OUTPUT_TOKENS),
        max_tool_calls=optional_int(body, "max_tool_calls", minimum=1),
        temperature=_number(body, "temperature", 0.0, 2.0),
        top_p=_number(body, "top_p", 0.0, 1.0),
        top_logprobs=optional_int(body, "top_logprobs", minimum=0, maximum=20) or 0,
        tools=_tools(body),
        tool_choice="auto",
        parallel_tool_calls=optional_bool(body, "parallel_tool_calls", default=True),
        text=_text(body),
        reasoning=_reasoning(body, model),
        truncation=optional_choice(body, "truncation", ("auto", "disabled")) or "disabled",
        metadata=parse_metadata(body) or {},
        previous_response_id=optional_str(body, "previous_response_id"),
        store=optional_bool(body, "store", default=True),
        stream=optional_bool(body, "stream"),
        background=optional_bool(body, "background"),
        service_tier=_service_tier(body),
        user=optional_str(body, "user"),
        safety_identifier=optional_str(body, "safety_identifier"),
        prompt_cache_key=optional_str(body, "prompt_cache_key"),
        include=_include(body),
        key=_key(body),
    )
    optional_object(body, "stream_options")
    check_model_served(config, model)
    return _with_tool_choice(request, body.get("tool_choice"))


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float:
    value = optional_number(body, name, minimum=low, maximum=high)
    return 1.0 if value is None else value


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = []
    offered = optional_list(body, "tools") or []
    check_tool_count(offered)
    for index, tool in enumerate(offered):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", tool)
        kind = tool.get("type")
        if kind != "function":
            raise invalid_value(f"{where}.type", f"Invalid value: '{kind}'. This server supports 'function' tools.")
        name = _name(tool, "name", where)
        parameters = optional_object(*_nested(tool, where, "parameters"))
        check_schema(parameters, owner=f"function '{name}'", param=f"{where}.parameters")
        description = optional_str(*_nested(tool, where, "description"))
        strict = optional_bool(*_nested(tool, where, "strict"), default=True)
        tools.append(
            {"type": "function", "name": name, "description": description, "parameters": parameters, "strict": strict}
        )
    return tools


def _name(holder: dict[str, Any], field: str, where: str) -> str:
    value = holder.get(field)
    if not isinstance(value, str) or not _NAME.match(value):
        raise invalid_value(
            f"{where}.{field}",
            f"Invalid '{where}.{field}': string does not match pattern. Expected a string that matches the "
            "pattern '^[a-zA-Z0-9_-]{1,64}$'.",
        )
    return value


def _with_tool_choice(request: ResponsesRequest, choice: Any) -> ResponsesRequest:
    names = [tool["name"] for tool in request.tools]
    resolved: str | dict[str, Any]
    if choice is None:
        return request
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise invalid_value(
                "tool_choice", f"Invalid value: '{choice}'. Supported values are: 'none', 'auto' and 'required'."
            )
        if choice == "required" and not names:
            raise invalid_value("tool_choice", "Tool choice 'required' must be specified with 'tools' parameter.")
        resolved = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        name = choice.get("name")
        if name not in names:
            raise invalid_value("tool_choice", f"Tool choice '{name}' not found in 'tools' parameter.")
        resolved = {"type": "function", "name": name}
    elif isinstance(choice, dict):
        raise invalid_value(
            "tool_choice.type", f"Invalid value: '{choice.get('type')}'. This server supports 'function'."
        )
    else:
        raise invalid_type("tool_choice", "a string or an object", choice)
    return replace(request, tool_choice=resolved)


def _text(body: dict[str, Any]) -> dict[str, Any]:
    text = optional_object(body, "text") or {}
    verbosity = optional_choice(*_nested(text, "text", "verbosity"), ("low", "medium", "high")) or "medium"
    format_ = text.get("format")
    if format_ is None:
        return {"format": {"type": "text"}, "verbosity": verbosity}
    if not isinstance(format_, dict):
        raise invalid_type("text.format", "an object", format_)
    kind = format_.get("type")
    if kind in ("text", "json_object"):
        return {"format": {"type": kind}, "verbosity": verbosity}
    if kind != "json_schema":
        raise invalid_value(
            "text.format.type",
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
        )
    schema = format_.get("schema")
    if not isinstance(schema, dict):
        raise invalid_type("text.format.schema", "an object", schema)
    name = _name(format_, "name", "text.format")
    check_schema(schema, owner=f"text.format '{name}'", param="text.format.schema")
    echoed = {
        "type": "json_schema",
        "name": name,
        "schema": schema,
        "strict": optional_bool(*_nested(format_, "text.format", "strict")),
        "description": optional_str(*_nested(format_, "text.format", "description")),
    }
    return {"format": echoed, "verbosity": verbosity}


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` thinks before it answers (the o-series and gpt-5 families)."""
    return model.startswith(REASONING_MODEL_PREFIXES)


def _reasoning(body: dict[str, Any], model: str) -> dict[str, Any]:
    reasoning = optional_object(body, "reasoning") or {}
    effort = optional_choice(*_nested(reasoning, "reasoning", "effort"), REASONING_EFFORTS)
    return {
        "effort": effort or ("medium" if is_reasoning_model(model) else None),
        "summary": optional_choice(*_nested(reasoning, "reasoning", "summary"), _SUMMARIES),
    }


def _service_tier(body: dict[str, Any]) -> str:
    tier = optional_choice(body, "service_tier", SERVICE_TIERS)
    return "default" if tier in (None, "auto") else tier


def _include(body: dict[str, Any]) -> tuple[str, ...]:
    include = optional_list(body, "include") or []
    for index, value in enumerate(include):
        if not isinstance(value, str):
            raise invalid_type(f"include[{index}]", "a string", value)
    return tuple(include)


def _nested(holder: dict[str, Any], where: str, name: str) -> tuple[dict[str, Any], str]:
    """``holder[name]`` under its full parameter path (``reasoning.effort``), so errors name the right param."""
    path = f"{where}.{name}"
    return {path: holder.get(name)}, path


def _key(body: dict[str, Any]) -> bytes:
    content = {name: value for name, value in body.items() if name not in ("stream", "stream_options")}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
