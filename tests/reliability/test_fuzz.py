"""Fuzzing the fake over every route of its own OpenAPI description: arbitrary JSON bodies, schema-shaped bodies
with arbitrary values, raw bytes, multipart uploads, headers, query strings and path parameters.

Whatever arrives, the server never answers 5xx (no rule asks it to), every error has OpenAI's shape, and the server
keeps answering with nothing left in flight. ``MOCK_FUZZ_EXAMPLES`` raises the number of examples for a long run.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from mockserver import MockServer, ServerConfig
from mockserver.endpoints import api_routes
from mockserver.endpoints.openapi import REQUEST_BODIES, openapi_document, serve_openapi

EXAMPLES = int(os.environ.get("MOCK_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="MOCK_FUZZ_EXAMPLES" not in os.environ,  # the short run is the same every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
AUTH = {"Authorization": "Bearer sk-fuzz"}
#: headers the fuzzer never invents: they steer the fault engine, authentication or the framing itself
RESERVED_HEADERS = frozenset(
    {"x-mock-fault", "authorization", "content-length", "transfer-encoding", "host", "connection", "expect", "upgrade"}
)
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded",
]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    name: str
    schema: dict[str, Any]


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[MockServer]:
    """A server of its own (the fuzzer stores objects) with the OpenAPI route mounted."""
    with MockServer(ServerConfig(seed=3)) as server:
        server.app.router.routes.append(Route("/openapi.json", serve_openapi, methods=["GET"]))
        yield server


@pytest.fixture(scope="module")
def http(fuzz_server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        yield client


def _operations() -> list[Operation]:
    found = []
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {})
            schema = next(iter(body.values()), {}).get("schema", {})
            found.append(Operation(method.upper(), path, operation["operationId"], schema))
    return found


OPERATIONS = _operations()

# -- strategies ------------------------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
header_names = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=20).filter(
    lambda name: name.lower() not in RESERVED_HEADERS
)


def _from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly fit ``schema``, sometimes anything at all (so each field's checks are reached)."""
    if depth > 3:
        return json_values
    if "enum" in schema:
        fitting: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif "oneOf" in schema:
        fitting = st.one_of([_from_schema(option, depth + 1) for option in schema["oneOf"]])
    else:
        kinds = schema.get("type", "object")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        fitting = st.one_of([_of_type(kind, schema, depth) for kind in kinds])
    return st.one_of(fitting, fitting, json_values)


def _of_type(kind: str, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(texts, json_values, max_size=3)
        fields = {name: _from_schema(sub, depth + 1) for name, sub in properties.items()}
        required = [name for name in schema.get("required", []) if name in fields]
        return st.fixed_dictionaries(
            {name: fields[name] for name in required},
            optional={name: value for name, value in fields.items() if name not in required},
        )
    if kind == "array":
        return st.lists(_from_schema(schema.get("items", {}), depth + 1), max_size=3)
    simple: dict[str, st.SearchStrategy[Any]] = {
        "string": st.sampled_from(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "file-x", ""]) | texts,
        "integer": st.integers(-3, 200) | st.integers(),
        "number": st.floats(-3, 3, allow_nan=False),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return simple.get(kind, json_values)


def _multipart(filename: str, content: bytes, purpose: str) -> bytes:
    return (
        b'--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n' + purpose.encode() + b"\r\n"
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="' + filename.encode() + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--xyz--\r\n"
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], list[tuple[str, str]], bytes | None]:
    """One request: method, URL path, headers, query and body, for some operation of the description."""
    operation = draw(st.sampled_from(OPERATIONS))
    path = operation.path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        value = draw(st.sampled_from(["x", "file-abc", "..", "%00"]) | texts.filter(bool))
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    headers = dict(draw(st.lists(st.tuples(header_names, header_values), max_size=4)))
    headers.update(AUTH if draw(st.integers(0, 9)) else {"Authorization": draw(header_values)})
    query = draw(st.lists(st.tuples(st.sampled_from(["after", "limit", "order", "model", "purpose"]) | texts, texts)))
    body: bytes | None = None
    if operation.method == "POST":
        kind = draw(st.sampled_from(["schema", "schema", "json", "bytes", "multipart"]))
        if kind == "schema":
            body = httpx.Request("POST", "/", json=draw(_from_schema(operation.schema))).content
        elif kind == "json":
            body = httpx.Request("POST", "/", json=draw(json_values)).content
        elif kind == "bytes":
            body = draw(st.binary(max_size=200))
        else:
            filename = draw(st.sampled_from(["../../etc/passwd", "a\\b\\c.jsonl", ".", "x\x00y"]) | texts)
            body = _multipart(filename.replace('"', ""), draw(st.binary(max_size=64)), draw(texts))
        headers["Content-Type"] = (
            "multipart/form-data; boundary=xyz" if kind == "multipart" else draw(st.sampled_from(CONTENT_TYPES))
        )
    return operation.method, path, headers, query, body


def assert_openai_error(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["type"], str)
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)


# -- properties ------------------------------------------------------------------------------------------------


def test_the_description_covers_every_route_and_is_valid_json_schema(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    served = {
        (re.sub(r":[a-z]+}", "}", route.path), method)
        for route in api_routes()
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert described == served
    for operation in OPERATIONS:
        jsonschema.Draft202012Validator.check_schema(operation.schema)
    assert {op.name for op in OPERATIONS if op.schema} == set(REQUEST_BODIES)


@FUZZ
@given(request=requests())
def test_any_request_gets_a_non_5xx_openai_shaped_answer(
    http: httpx.Client, request: tuple[str, str, dict[str, str], list[tuple[str, str]], bytes | None]
) -> None:
    method, path, headers, query, body = request
    response = http.request(method, path, headers=headers, params=query, content=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_openai_error(response)
    elif path == "/v1/files" and method == "POST":
        filename = response.json()["filename"]
        assert "/" not in filename
        assert "\\" not in filename
        assert filename not in ("", ".", "..")


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]), path=texts, body=st.binary(max_size=64))
def test_unknown_paths_and_methods_are_openai_shaped(http: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = http.request(method, "/v1/" + quote(path), headers=AUTH, content=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_openai_error(response)


def test_the_server_is_still_up_with_nothing_in_flight(fuzz_server: MockServer, http: httpx.Client) -> None:
    assert http.get("/health").json() == {"status": "ok"}
    stats = fuzz_server.stats()
    assert stats["in_flight"] == 0
    assert stats["open_streams"] == 0
