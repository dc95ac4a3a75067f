"""An OpenAPI 3.1 description of the fake's ``/v1`` API, and the handler that serves it at ``GET /openapi.json``.

The operations come from the routes themselves (:func:`mockserver.endpoints.api_routes`): every path and method
the server answers is described, and nothing else. What the routes cannot say (request bodies, query parameters)
comes from the tables below, keyed by the handler's name. Request body schemas list exactly the top-level fields the
fake's checks read, with their JSON types (``tests/mockserver/test_openapi_fields.py`` proves the two agree); they
are deliberately loose about nested shapes (the server's own checks are the authority, and they answer anything
else with an OpenAI-shaped 400). Every operation documents the error shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..wire.json_codec import dumps
from ._fine_tuning_request import METHOD_TYPES
from ._generation_fields import REASONING_EFFORTS, SERVICE_TIERS
from ._responses_request import MIN_OUTPUT_TOKENS
from .files import MAX_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS, PURPOSES

__all__ = ["OPENAPI_VERSION", "openapi_document", "serve_openapi"]

OPENAPI_VERSION = "3.1.0"

_STRING: Mapping[str, Any] = {"type": "string"}
_INT: Mapping[str, Any] = {"type": "integer"}
_NUMBER: Mapping[str, Any] = {"type": "number"}
_BOOL: Mapping[str, Any] = {"type": "boolean"}
_OBJECT: Mapping[str, Any] = {"type": "object"}
_ARRAY: Mapping[str, Any] = {"type": "array"}
_NULLABLE_INT: Mapping[str, Any] = {"type": ["integer", "null"]}
_METADATA: Mapping[str, Any] = {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
_STOP: Mapping[str, Any] = {"oneOf": [_STRING, {"type": "array", "items": _STRING, "maxItems": 4}, {"type": "null"}]}
_TEXT_OR_ITEMS: Mapping[str, Any] = {"oneOf": [_STRING, {"type": "array", "items": _OBJECT}]}
_PROMPT: Mapping[str, Any] = {
    "oneOf": [_STRING, {"type": "array", "items": _STRING}, {"type": "array", "items": _INT}, _ARRAY]
}
_MESSAGE: Mapping[str, Any] = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {"oneOf": [_STRING, {"type": "array", "items": _OBJECT}, {"type": "null"}]},
        "name": _STRING,
        "tool_calls": {"type": "array", "items": _OBJECT},
        "tool_call_id": _STRING,
    },
}


@dataclass(frozen=True, slots=True)
class BodySpec:
    """The request body of one operation: its required fields and the schema of each field."""

    properties: Mapping[str, Mapping[str, Any]]
    required: tuple[str, ...] = ()
    media_type: str = "application/json"

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": {k: dict(v) for k, v in self.properties.items()}}
        if self.required:
            schema["required"] = list(self.required)
        return schema


_SAMPLING: Mapping[str, Mapping[str, Any]] = {
    "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
    "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "stream": {"type": ["boolean", "null"]},
    "stream_options": {"type": ["object", "null"], "properties": {"include_usage": _BOOL}},
    "user": _STRING,
}
_PENALTIES: Mapping[str, Mapping[str, Any]] = {
    "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
    "presence_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
}
_SERVICE_TIER: Mapping[str, Any] = {"enum": [*SERVICE_TIERS, None]}
_RESPONSE_TOOL_CHOICE: Mapping[str, Any] = {"oneOf": [{"enum": ["none", "auto", "required"]}, _OBJECT]}
_TRUNCATION: Mapping[str, Any] = {"enum": ["auto", "disabled", None]}

#: handler name -> its request body
REQUEST_BODIES: Mapping[str, BodySpec] = {
    "create_chat_completion": BodySpec(
        {
            "model": _STRING,
            "messages": {"type": "array", "items": _MESSAGE, "minItems": 1},
            "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128},
            "max_tokens": _NULLABLE_INT,
            "max_completion_tokens": _NULLABLE_INT,
            **_PENALTIES,
            "stop": _STOP,
            "logprobs": {"type": ["boolean", "null"]},
            "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
            "logit_bias": {"type": ["object", "null"], "additionalProperties": _NUMBER},
            "store": {"type": ["boolean", "null"]},
            "service_tier": _SERVICE_TIER,
            "tools": {"type": "array", "items": _OBJECT},
            "tool_choice": {"oneOf": [{"enum": ["none", "auto", "required"]}, _OBJECT]},
            "parallel_tool_calls": _BOOL,
            "response_format": {"type": "object", "required": ["type"], "properties": {"type": _STRING}},
            "reasoning_effort": {"enum": [*REASONING_EFFORTS, None]},
            "metadata": _METADATA,
            "seed": _NULLABLE_INT,
            **_SAMPLING,
        },
        ("model", "messages"),
    ),
    "update_completion": BodySpec({"metadata": _METADATA}, ("metadata",)),
    "create_completion": BodySpec(
        {
            "model": _STRING,
            "prompt": _PROMPT,
            "max_tokens": _NULLABLE_INT,
            "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128},
            "best_of": _NULLABLE_INT,
            "echo": {"type": ["boolean", "null"]},
            "logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 5},
            "suffix": {"type": ["string", "null"]},
            "stop": _STOP,
            "seed": _NULLABLE_INT,
            **_PENALTIES,
            **_SAMPLING,
        },
        ("model", "prompt"),
    ),
    "create_response": BodySpec(
        {
            "model": _STRING,
            "input": _TEXT_OR_ITEMS,
            "instructions": {"type": ["string", "null"]},
            "max_output_tokens": {"type": ["integer", "null"], "minimum": MIN_OUTPUT_TOKENS},
            "previous_response_id": {"type": ["string", "null"]},
            "store": {"type": ["boolean", "null"]},
            "tools": {"type": "array", "items": _OBJECT},
            "tool_choice": _RESPONSE_TOOL_CHOICE,
            "parallel_tool_calls": {"type": ["boolean", "null"]},
            "text": _OBJECT,
            "reasoning": {"type": ["object", "null"]},
            "metadata": _METADATA,
            "service_tier": _SERVICE_TIER,
            "max_tool_calls": {"type": ["integer", "null"], "minimum": 1},
            "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
            "truncation": _TRUNCATION,
            "background": {"type": ["boolean", "null"]},
            "include": {"type": ["array", "null"], "items": _STRING},
            "safety_identifier": {"type": ["string", "null"]},
            "prompt_cache_key": {"type": ["string", "null"]},
            **_SAMPLING,
        },
        ("model",),
    ),
    "count_input_tokens": BodySpec(
        {
            "model": {"type": ["string", "null"]},
            "input": _TEXT_OR_ITEMS,
            "instructions": {"type": ["string", "null"]},
            "tools": {"type": ["array", "null"], "items": _OBJECT},
            "previous_response_id": {"type": ["string", "null"]},
            "tool_choice": _RESPONSE_TOOL_CHOICE,
            "parallel_tool_calls": {"type": ["boolean", "null"]},
            "text": _OBJECT,
            "reasoning": {"type": ["object", "null"]},
            "truncation": _TRUNCATION,
        }
    ),
    "create_embeddings": BodySpec(
        {
            "model": _STRING,
            "input": {**_PROMPT, "description": "a text, texts, tokens or lists of tokens (at most 2048 items)"},
            "encoding_format": {"enum": ["float", "base64"]},
            "dimensions": {"type": "integer", "minimum": 1},
            "user": _STRING,
        },
        ("model", "input"),
    ),
    "create_file": BodySpec(
        {
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "purpose": {"enum": list(PURPOSES)},
            "expires_after[anchor]": {"enum": ["created_at"]},
            "expires_after[seconds]": {"type": "integer", "minimum": MIN_EXPIRY_SECONDS, "maximum": MAX_EXPIRY_SECONDS},
        },
        ("file", "purpose"),
        media_type="multipart/form-data",
    ),
    "create_job": BodySpec(
        {
            "model": _STRING,
            "training_file": _STRING,
            "validation_file": {"type": ["string", "null"]},
            "hyperparameters": _OBJECT,
            "method": {"type": "object", "required": ["type"], "properties": {"type": {"enum": list(METHOD_TYPES)}}},
            "integrations": {"type": ["array", "null"], "items": _OBJECT},
            "suffix": {"type": ["string", "null"], "maxLength": 64},
            "seed": _NULLABLE_INT,
            "metadata": _METADATA,
        },
        ("model", "training_file"),
    ),
    "create_batch": BodySpec(
        {
            "input_file_id": _STRING,
            "endpoint": {"enum": ["/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions"]},
            "completion_window": {"enum": ["24h"]},
            "metadata": _METADATA,
            "output_expires_after": _OBJECT,
        },
        ("input_file_id", "endpoint", "completion_window"),
    ),
}

_PAGE = {"after": _STRING, "limit": {"type": "integer", "minimum": 1}}
_ORDERED_PAGE = {**_PAGE, "order": {"enum": ["asc", "desc"]}}

#: handler name -> its query parameters
QUERY_PARAMETERS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "list_completions": {**_ORDERED_PAGE, "model": _STRING},
    "list_messages": _ORDERED_PAGE,
    "list_input_items": _ORDERED_PAGE,
    "list_files": {**_ORDERED_PAGE, "purpose": _STRING},
    "list_jobs": _PAGE,
    "list_events": _PAGE,
    "list_checkpoints": _PAGE,
    "list_batches": _PAGE,
}

#: handler names whose replies stream as Server-Sent Events when the body asks for ``stream: true``
STREAMING = frozenset({"create_chat_completion", "create_completion", "create_response"})

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": _STRING,
                "type": _STRING,
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_ERROR_STATUSES = {
    "400": "The request is not valid (the message names the field).",
    "401": "No API key, or not the configured one.",
    "404": "No such object.",
    "413": "The request body is over the server's cap.",
    "429": "A rate limit or a scripted quota error.",
    "500": "A scripted server error.",
    "503": "A scripted overload.",
}
_PATH_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def _openapi_path(path: str) -> str:
    """Starlette's ``/v1/models/{model:path}`` as OpenAPI's ``/v1/models/{model}``."""
    return _PATH_PARAMETER.sub(r"{\1}", path)


def _operation(name: str, method: str, path: str) -> dict[str, Any]:
    """One operation: its parameters, its request body (if it takes one) and its replies."""
    parameters = [
        {"name": param, "in": "path", "required": True, "schema": dict(_STRING)}
        for param in _PATH_PARAMETER.findall(path)
    ]
    parameters += [
        {"name": param, "in": "query", "required": False, "schema": dict(schema)}
        for param, schema in QUERY_PARAMETERS.get(name, {}).items()
    ]
    success: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if name in STREAMING:
        success["text/event-stream"] = {"schema": {"type": "string"}}
    if name == "file_content":
        success = {"application/octet-stream": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {"200": {"description": "Success.", "content": success}}
    for status, description in _ERROR_STATUSES.items():
        responses[status] = {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
    operation: dict[str, Any] = {
        "operationId": name,
        "parameters": parameters,
        "responses": responses,
    }
    body = REQUEST_BODIES.get(name)
    if body is not None and method == "POST":
        operation["requestBody"] = {"required": True, "content": {body.media_type: {"schema": body.schema()}}}
    return operation


def openapi_document(routes: Iterable[BaseRoute] | None = None) -> dict[str, Any]:
    """The OpenAPI description of ``routes`` (default: every ``/v1`` route of the fake)."""
    if routes is None:
        from . import api_routes

        routes = api_routes()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        name = getattr(route.endpoint, "handler", route.endpoint).__name__
        item = paths.setdefault(_openapi_path(route.path), {})
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                item[method.lower()] = _operation(name, method, route.path)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "mockserver: a fake of the OpenAI API",
            "version": "1.0.0",
            "description": "The routes the fake serves. Errors always have OpenAI's shape.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": {"ErrorResponse": _ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


async def serve_openapi(request: Request) -> Response:
    """``GET /openapi.json``."""
    return Response(dumps(openapi_document()), media_type="application/json")
