"""The request-field description (``REQUEST_BODIES`` in ``mockserver/endpoints/openapi.py``) and the request
checks in ``mockserver/endpoints/`` agree, field by field, for every described body:

- every described field is accepted by the live server with a value its schema admits, and a value its schema
  refuses is answered with a 400 whose ``param`` names that field;
- every top-level field the checks read is described: the real handler is handed a body that notes each key it is
  asked for (the same bodies as above), and for the token count, which forwards its body to the create call's
  check, every field that check reads and the count does not refuse as unknown.

A field added to a check and not to the description, or described and not checked, fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest
from _helpers import AUTH
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.routing import Route

from mockserver import MockServer
from mockserver.endpoints import api_routes
from mockserver.endpoints.openapi import REQUEST_BODIES, openapi_document
from mockserver.http.dispatch import Call, Handler
from mockserver.wire.errors import APIErrorResponse

TRAINING_LINE = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
BATCH_LINE = (
    b'{"custom_id": "one", "method": "POST", "url": "/v1/chat/completions", '
    b'"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}\n'
)
CHAT_MESSAGES = [{"role": "user", "content": "hi"}]
#: JSON values of every type, in the order tried when looking for one a field's schema refuses
OFF_TYPE_VALUES: tuple[Any, ...] = (True, "text", 7, 1.5, {"unexpected": "object"}, ["unexpected"])


@dataclass(frozen=True, slots=True)
class Stored:
    """Objects a body can refer to, made on the live server for the test."""

    training_file: str
    batch_file: str
    chat_completion: str
    response: str


@pytest.fixture
def http(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as client:
        yield client


@pytest.fixture
def stored(server: MockServer, http: httpx.Client) -> Stored:
    def upload(content: bytes, purpose: str) -> str:
        reply = http.post("/files", files={"file": ("data.jsonl", content)}, data={"purpose": purpose})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["id"])

    chat = http.post("/chat/completions", json={"model": "gpt-4o-mini", "messages": CHAT_MESSAGES, "store": True})
    response = http.post("/responses", json={"model": "gpt-4o-mini", "input": "hi"})
    assert chat.status_code == response.status_code == 200
    return Stored(
        upload(TRAINING_LINE, "fine-tune"), upload(BATCH_LINE, "batch"), chat.json()["id"], response.json()["id"]
    )


def _operations() -> dict[str, tuple[str, str]]:
    """handler name -> (method, path) of the operation that takes its body, from the description itself."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                found[operation["operationId"]] = (method.upper(), path)
    return found


OPERATIONS = _operations()
HANDLERS: dict[str, Handler] = {
    getattr(route.endpoint, "handler", route.endpoint).__name__: getattr(route.endpoint, "handler", route.endpoint)
    for route in api_routes()
    if isinstance(route, Route)
}
JSON_BODIES = sorted(name for name, body in REQUEST_BODIES.items() if body.media_type == "application/json")


def base_body(name: str, stored: Stored) -> dict[str, Any]:
    """The smallest body the operation accepts."""
    bodies: dict[str, dict[str, Any]] = {
        "create_chat_completion": {"model": "gpt-4o-mini", "messages": CHAT_MESSAGES},
        "update_completion": {"metadata": {"topic": "tests"}},
        "create_completion": {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
        "create_response": {"model": "gpt-4o-mini", "input": "hi"},
        "count_input_tokens": {},
        "create_embeddings": {"model": "text-embedding-3-small", "input": "hi"},
        "create_job": {"model": "gpt-4o-mini-2024-07-18", "training_file": stored.training_file},
        "create_batch": {
            "input_file_id": stored.batch_file,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    }
    return bodies[name]


#: the Responses bodies take every field on its own
RESPONSES_BODIES = frozenset({"create_response", "count_input_tokens"})
#: fields the chat and completions checks accept only beside another one (as OpenAI does): field -> what the body
#: must also hold
COMPANIONS: dict[str, dict[str, Any]] = {
    "top_logprobs": {"logprobs": True},
    "stream_options": {"stream": True},
    "tool_choice": {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]},
}


def with_field(name: str, field: str, value: Any, stored: Stored) -> dict[str, Any]:
    """The operation's smallest body with ``field`` set to ``value`` (and what the field needs beside it)."""
    companions = COMPANIONS.get(field, {}) if name not in RESPONSES_BODIES else {}
    return {**base_body(name, stored), **companions, field: value}


def admitted_value(name: str, field: str, schema: Mapping[str, Any], stored: Stored) -> Any:
    """A value of ``field`` that its schema admits and the server has no other reason to refuse."""
    specific: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "previous_response_id": stored.response,
        "validation_file": stored.training_file,
    }
    if field in base_body(name, stored):
        value = base_body(name, stored)[field]
    elif field in specific:
        value = specific[field]
    else:
        value = _from_schema(schema)
    jsonschema.validate(value, dict(schema))  # the description admits what the server is shown to accept
    return value


def _from_schema(schema: Mapping[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema:
        return _from_schema(schema["oneOf"][0])
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    kind = next(kind for kind in kinds if kind != "null")
    if kind == "object":
        return {name: _from_schema(sub) for name, sub in schema.get("properties", {}).items()}
    simple = {"string": "text", "integer": schema.get("minimum", 1), "number": schema.get("minimum", 0.5)}
    return {"array": [], "boolean": True, **simple}[kind]


def refused_value(schema: Mapping[str, Any]) -> Any:
    """A JSON value the field's schema refuses."""
    validator = jsonschema.Draft202012Validator(dict(schema))
    return next(value for value in OFF_TYPE_VALUES if not validator.is_valid(value))


def send(http: httpx.Client, name: str, body: dict[str, Any], stored: Stored) -> httpx.Response:
    method, path = OPERATIONS[name]
    url = path.removeprefix("/v1").replace("{completion_id}", stored.chat_completion)
    return http.request(method, url, json=body)


def names_field(param: str | None, field: str) -> bool:
    """Whether an error's ``param`` is ``field`` or a part of it (``messages[0].role``, ``method.type``)."""
    return param is not None and (param == field or param.startswith((f"{field}.", f"{field}[")))


def test_every_described_body_is_sent_here() -> None:
    assert set(OPERATIONS) == set(REQUEST_BODIES)


@pytest.mark.parametrize("name", JSON_BODIES)
def test_every_described_field_is_accepted_when_admitted_and_refused_when_not(
    name: str, http: httpx.Client, stored: Stored
) -> None:
    disagreements = []
    base = base_body(name, stored)
    assert send(http, name, base, stored).status_code == 200
    for field, schema in REQUEST_BODIES[name].properties.items():
        admitted = admitted_value(name, field, schema, stored)
        accepted = send(http, name, with_field(name, field, admitted, stored), stored)
        if accepted.status_code != 200:
            disagreements.append(f"{field}={admitted!r} is described but refused: {accepted.text}")
        refused = refused_value(schema)
        answer = send(http, name, with_field(name, field, refused, stored), stored)
        param = answer.json()["error"]["param"] if answer.status_code == 400 else None
        if not names_field(param, field):
            disagreements.append(f"{field}={refused!r} is not what the description says, yet got {answer.text[:200]}")
    assert not disagreements, "\n".join(disagreements)


class ReadRecordingBody(dict[str, Any]):
    """A JSON body that notes every top-level field a check asks it for."""

    def __init__(self, data: Mapping[str, Any], reads: set[str]) -> None:
        super().__init__(data)
        self.reads = reads

    def get(self, key: str, default: Any = None) -> Any:
        self.reads.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.reads.add(key)
        return super().__contains__(key)


async def fields_read(name: str, server: MockServer, stored: Stored) -> set[str]:
    """Every field the operation's check reads, over its smallest body and that body plus each described field."""
    method, path = OPERATIONS[name]
    handler = HANDLERS[name]
    base = base_body(name, stored)
    bodies = [base] + [
        with_field(name, field, admitted_value(name, field, schema, stored), stored)
        for field, schema in REQUEST_BODIES[name].properties.items()
    ]
    reads: set[str] = set()
    for body in bodies:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [],
            "path_params": {"completion_id": stored.chat_completion},
        }
        try:
            await handler(Call(Request(scope), ReadRecordingBody(body, reads), server.state))
        except APIErrorResponse as exc:
            pytest.fail(f"{name} refused {body}: {exc}")
    return reads


@pytest.mark.parametrize("name", JSON_BODIES)
async def test_every_field_the_check_reads_is_described(name: str, server: MockServer, stored: Stored) -> None:
    reads = await fields_read(name, server, stored)
    assert reads, f"{name}: no read was recorded (is the body still read through the Call?)"
    assert reads <= set(REQUEST_BODIES[name].properties)


async def test_every_field_the_token_count_forwards_to_the_create_check_is_described(
    server: MockServer, http: httpx.Client, stored: Stored
) -> None:
    """The count hands its body on to the create call's check (a copy, so the recording above cannot see those
    reads): every field that check reads and the count does not refuse as unknown must be in the count's
    description."""
    create_fields = REQUEST_BODIES["create_response"].properties
    forwarded = set()
    for field in await fields_read("create_response", server, stored):
        value = admitted_value("create_response", field, create_fields[field], stored)
        answer = send(http, "count_input_tokens", {field: value}, stored)
        if answer.status_code == 200 or answer.json()["error"]["code"] != "unknown_parameter":
            forwarded.add(field)
    # the probe tells the two apart: the count takes ``input`` and refuses the create call's ``stream``
    assert "input" in forwarded
    assert "stream" not in forwarded
    assert forwarded <= set(REQUEST_BODIES["count_input_tokens"].properties)


# -- the multipart upload -------------------------------------------------------------------------------------

UPLOAD = ("data.jsonl", TRAINING_LINE)
#: what an expiry field needs beside it
EXPIRY_PAIR = {"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}


def _form_value(field: str, schema: Mapping[str, Any]) -> str:
    """An admitted value of a form field, as the form carries it (text)."""
    value = _from_schema(schema)
    jsonschema.validate(value, dict(schema))
    return str(value)


def test_every_described_upload_field_is_accepted_when_admitted_and_refused_when_not(http: httpx.Client) -> None:
    disagreements = []
    spec = REQUEST_BODIES["create_file"]
    base = {"purpose": "fine-tune"}
    for field, schema in spec.properties.items():
        if field == "file":  # the part that must be an upload: as a text field it is the wrong type
            accepted = http.post("/files", files={"file": UPLOAD}, data=base)
            answer = http.post("/files", data={**base, "file": "text"})
        else:
            companions = EXPIRY_PAIR if field in EXPIRY_PAIR else {}
            admitted = {**base, **companions, field: _form_value(field, schema)}
            accepted = http.post("/files", files={"file": UPLOAD}, data=admitted)
            assert not jsonschema.Draft202012Validator(dict(schema)).is_valid("text")
            answer = http.post("/files", files={"file": UPLOAD}, data={**base, **companions, field: "text"})
        if accepted.status_code != 200:
            disagreements.append(f"{field} is described but an admitted value is refused: {accepted.text}")
        param = answer.json()["error"]["param"] if answer.status_code == 400 else None
        # the form's ``expires_after[anchor]`` is OpenAI's ``expires_after.anchor``
        if param is None or param != re.sub(r"\[(\w+)\]", r".\1", field):
            disagreements.append(f"{field}: a value the description refuses got {answer.text[:200]}")
    assert not disagreements, "\n".join(disagreements)


class ReadRecordingForm(FormData):
    """A parsed form that notes every field a check asks it for."""

    def __init__(self, form: FormData, reads: set[str]) -> None:
        super().__init__(form.multi_items())
        self.reads = reads

    def get(self, key: Any, default: Any = None) -> Any:
        self.reads.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self.reads.add(key)
        return super().__contains__(key)


class ReadRecordingRequest(Request):
    """A real request whose parsed form records what the check reads from it."""

    def __init__(self, scope: dict[str, Any], body: bytes, reads: set[str]) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        super().__init__(scope, receive)
        self.reads = reads

    async def form(self, **limits: Any) -> FormData:
        return ReadRecordingForm(await super().form(**limits), self.reads)


async def test_every_field_the_upload_check_reads_is_described(server: MockServer) -> None:
    reads: set[str] = set()
    for data in ({"purpose": "fine-tune"}, {"purpose": "fine-tune", **EXPIRY_PAIR}):
        request = httpx.Request("POST", "http://127.0.0.1/v1/files", files={"file": UPLOAD}, data=data)
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/files",
            "headers": [(name.lower().encode(), value.encode()) for name, value in request.headers.items()],
        }
        reply = await HANDLERS["create_file"](
            Call(ReadRecordingRequest(scope, request.read(), reads), None, server.state)
        )
        assert reply.status == 200
    assert {"file", "purpose"} <= reads
    assert reads <= set(REQUEST_BODIES["create_file"].properties)
