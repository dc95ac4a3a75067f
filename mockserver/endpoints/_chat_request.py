"""``POST /v1/chat/completions`` request: checked field by field as OpenAI checks it, into one value.

The common shape of request is checked faster by :mod:`._chat_common_request` first; whatever that declines
comes here, so every error is made here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from ..content.generation import ToolSpec
from ..content.tokenizer import count_message_tokens, count_tokens
from ..state.server_state import ServerState
from ..wire.errors import invalid_type, invalid_value, missing_parameter
from ..wire.fields import (
    optional_bool,
    optional_choice,
    optional_int,
    optional_list,
    optional_number,
    optional_object,
    optional_str,
    required,
)
from ._generation_fields import (
    REASONING_EFFORTS,
    SERVICE_TIERS,
    known_model,
    metadata_field,
    reply_key,
    stop_field,
    stream_fields,
)
from ._request_limits import check_max_tokens, check_schema, check_tool_count

__all__ = ["ChatRequest", "message_text", "parse_chat_request", "prompt_text"]

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


# a msgspec struct rather than a frozen dataclass: as immutable, and many times faster to make
class ChatRequest(msgspec.Struct, frozen=True):
    model: str
    messages: tuple[dict[str, Any], ...]
    prompt: str
    prompt_tokens: int
    key: bytes
    n: int
    stream: bool
    include_usage: bool
    max_tokens: int | None
    stop: tuple[str, ...]
    logprobs: bool
    top_logprobs: int
    tools: tuple[ToolSpec, ...]
    tool_choice: str
    parallel_tool_calls: bool
    json_schema: dict[str, Any] | None
    store: bool
    metadata: dict[str, str]
    service_tier: str
    #: the model's output limit: a reply stops there when ``max_tokens`` does not stop it sooner
    output_limit: int | None = None


def parse_chat_request(body: Mapping[str, Any], state: ServerState) -> ChatRequest:
    messages = _messages(body)
    n = optional_int(body, "n", minimum=1, maximum=128) or 1
    optional_number(body, "temperature", minimum=0, maximum=2)
    optional_number(body, "top_p", minimum=0, maximum=1)
    optional_number(body, "presence_penalty", minimum=-2, maximum=2)
    optional_number(body, "frequency_penalty", minimum=-2, maximum=2)
    optional_int(body, "seed")
    optional_str(body, "user")
    optional_object(body, "logit_bias")
    parallel_tool_calls = optional_bool(body, "parallel_tool_calls", default=True)
    stream, include_usage = stream_fields(body)
    logprobs = optional_bool(body, "logprobs")
    top_logprobs = optional_int(body, "top_logprobs", minimum=0, maximum=20)
    if top_logprobs is not None and not logprobs:
        raise invalid_value(
            "top_logprobs", "Invalid value for 'top_logprobs': logprobs must be true when top_logprobs is set."
        )
    max_completion = optional_int(body, "max_completion_tokens", minimum=1)
    max_tokens = optional_int(body, "max_tokens", minimum=1)
    tools = _tools(body)
    tool_choice = _tool_choice(body, tools)
    json_schema = _response_format(body)
    metadata = metadata_field(body)
    store = optional_bool(body, "store")
    tier = optional_choice(body, "service_tier", SERVICE_TIERS)
    optional_choice(body, "reasoning_effort", REASONING_EFFORTS)
    model = known_model(body, state)
    limit_param = "max_completion_tokens" if max_completion is not None else "max_tokens"
    output_limit = check_max_tokens(
        state, model, max_completion if max_completion is not None else max_tokens, limit_param
    )
    tool_tokens = count_tokens(json.dumps(body.get("tools"))) if tools else 0
    return ChatRequest(
        model=model,
        messages=messages,
        prompt=prompt_text(messages),
        prompt_tokens=count_message_tokens(messages) + tool_tokens,
        key=reply_key(body),
        n=n,
        stream=stream,
        include_usage=include_usage,
        max_tokens=max_completion if max_completion is not None else max_tokens,
        stop=stop_field(body),
        logprobs=logprobs,
        top_logprobs=top_logprobs or 0,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel_tool_calls,
        json_schema=json_schema,
        store=store,
        metadata=metadata,
        service_tier="default" if tier in (None, "auto") else tier,
        output_limit=output_limit,
    )


def _messages(body: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    messages = required(body, "messages")
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array", messages)
    if not messages:
        raise invalid_value(
            "messages",
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        )
    for position, message in enumerate(messages):
        _check_message(message, f"messages[{position}]")
    return tuple(messages)


def _check_message(message: Any, where: str) -> None:
    if not isinstance(message, dict):
        raise invalid_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        raise missing_parameter(f"{where}.role")
    if role not in ROLES:
        allowed = ", ".join(f"'{name}'" for name in ROLES[:-1])
        raise invalid_value(
            f"{where}.role", f"Invalid value: '{role}'. Supported values are: {allowed}, and 'developer'."
        )
    content = message.get("content")
    if content is None and role != "assistant":
        raise missing_parameter(f"{where}.content")
    if isinstance(content, list):
        if not content:
            raise invalid_value(
                f"{where}.content",
                f"Invalid '{where}.content': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
            )
        for index, part in enumerate(content):
            _check_part(part, f"{where}.content[{index}]")
    elif content is not None and not isinstance(content, str):
        raise invalid_type(f"{where}.content", "a string or an array of content parts", content)
    optional_str(message, "name")
    if role == "tool":
        tool_call_id = message.get("tool_call_id")
        if tool_call_id is None:
            raise missing_parameter(f"{where}.tool_call_id")
        if not isinstance(tool_call_id, str):
            raise invalid_type(f"{where}.tool_call_id", "a string", tool_call_id)
    if role == "assistant" and message.get("tool_calls") is not None:
        calls = message["tool_calls"]
        if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
            raise invalid_type(f"{where}.tool_calls", "an array of objects", calls)


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, dict):
        raise invalid_type(where, "an object", part)
    kind = part.get("type")
    if kind is None:
        raise missing_parameter(f"{where}.type")
    if kind not in PART_TYPES:
        allowed = ", ".join(f"'{name}'" for name in PART_TYPES)
        raise invalid_value(f"{where}.type", f"Invalid value: '{kind}'. Supported values are: {allowed}.")
    field = {"text": "text", "refusal": "refusal", "image_url": "image_url", "input_audio": "input_audio"}.get(kind)
    if field is not None and part.get(field) is None:
        raise missing_parameter(f"{where}.{field}")
    if kind in ("text", "refusal") and not isinstance(part[field], str):
        raise invalid_type(f"{where}.{field}", "a string", part[field])


def _tools(body: Mapping[str, Any]) -> tuple[ToolSpec, ...]:
    tools = optional_list(body, "tools") or []
    check_tool_count(tools)
    specs = []
    for position, tool in enumerate(tools):
        where = f"tools[{position}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", tool)
        if tool.get("type") != "function":
            raise invalid_value(
                f"{where}.type", f"Invalid value: '{tool.get('type')}'. Supported values are: 'function' and 'custom'."
            )
        function = tool.get("function")
        if function is None:
            raise missing_parameter(f"{where}.function")
        if not isinstance(function, dict):
            raise invalid_type(f"{where}.function", "an object", function)
        name = function.get("name")
        if name is None:
            raise missing_parameter(f"{where}.function.name")
        if not isinstance(name, str):
            raise invalid_type(f"{where}.function.name", "a string", name)
        if not _FUNCTION_NAME.match(name):
            raise invalid_value(
                f"{where}.function.name",
                f"Invalid '{where}.function.name': string does not match pattern. "
                "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            )
        optional_str(function, "description")
        optional_bool(function, "strict")
        parameters = optional_object(function, "parameters")
        check_schema(parameters, owner=f"function '{name}'", param=f"{where}.function.parameters")
        specs.append(ToolSpec(name, parameters))
    return tuple(specs)


def _tool_choice(body: Mapping[str, Any], tools: tuple[ToolSpec, ...]) -> str:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto"
    if not tools:
        raise invalid_value(
            "tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
        )
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise invalid_value(
                "tool_choice", f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'."
            )
        return choice
    if not isinstance(choice, dict):
        raise invalid_type("tool_choice", "a string or an object", choice)
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if choice.get("type") != "function" or not isinstance(name, str):
        raise invalid_value(
            "tool_choice", "Invalid 'tool_choice': expected {'type': 'function', 'function': {'name': ...}}."
        )
    if name not in {tool.name for tool in tools}:
        raise invalid_value("tool_choice", f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.")
    return name


def _response_format(body: Mapping[str, Any]) -> dict[str, Any] | None:
    response_format = optional_object(body, "response_format")
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind is None:
        raise missing_parameter("response_format.type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {}
    if kind != "json_schema":
        raise invalid_value(
            "response_format.type",
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
        )
    spec = response_format.get("json_schema")
    if spec is None:
        raise missing_parameter("response_format.json_schema")
    if not isinstance(spec, dict):
        raise invalid_type("response_format.json_schema", "an object", spec)
    name = spec.get("name")
    if name is None:
        raise missing_parameter("response_format.json_schema.name")
    if not isinstance(name, str):
        raise invalid_type("response_format.json_schema.name", "a string", name)
    schema = optional_object(spec, "schema")
    check_schema(schema, owner=f"response_format '{name}'", param="response_format")
    return schema if schema is not None else {}


def prompt_text(messages: tuple[dict[str, Any], ...]) -> str:
    """The text the reply answers: the last user message's text (or the last message's, if no user spoke)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message.get("content"))
    return message_text(messages[-1].get("content"))


def message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""
