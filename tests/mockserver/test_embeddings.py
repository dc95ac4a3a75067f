"""``POST /v1/embeddings`` through the official SDK (both transports) and raw HTTP."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import openai
import pytest
from _helpers import sdk_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types import CreateEmbeddingResponse

from mockserver import MockServer
from mockserver.content.tokenizer import count_tokens

SMALL = "text-embedding-3-small"


@pytest.fixture
def http(server: MockServer, shared_http: httpx.Client) -> httpx.Client:
    """The module's one plain HTTP client (``shared_http``) for raw bodies, against a freshly reset server."""
    return shared_http


def post(http: httpx.Client, body: Any) -> httpx.Response:
    return http.post("/embeddings", json=body)


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(value * value for value in vector))


async def test_base64_default_and_float_give_the_same_unit_vectors(
    sdk: openai.AsyncOpenAI, server: MockServer, transport: str
) -> None:
    # Without encoding_format the SDK asks for base64 and decodes it after parsing; its strict mode validates
    # the still-encoded string against ``List[float]`` first and rejects it (a limitation of the SDK, the same
    # against OpenAI itself), so this request goes through a non-strict client.
    async with sdk_client(server, transport, strict=False) as lenient:
        decoded = await lenient.embeddings.create(model=SMALL, input=["hello world", "goodbye"])
    floats = await sdk.embeddings.create(model=SMALL, input=["hello world", "goodbye"], encoding_format="float")
    assert [item.embedding for item in decoded.data] == [item.embedding for item in floats.data]
    assert [item.index for item in floats.data] == [0, 1]
    assert floats.model == SMALL
    for item in floats.data:
        assert len(item.embedding) == 1536
        assert norm(item.embedding) == pytest.approx(1.0, abs=1e-5)
    assert floats.data[0].embedding != floats.data[1].embedding


async def test_usage_counts_the_input_tokens(sdk: openai.AsyncOpenAI) -> None:
    texts = ["The quick brown fox", "jumps over the lazy dog, twice!"]
    result = await sdk.embeddings.create(model=SMALL, input=texts, encoding_format="float")
    expected = sum(count_tokens(text) for text in texts)
    assert result.usage.prompt_tokens == expected
    assert result.usage.total_tokens == expected


async def test_vectors_depend_only_on_model_and_text(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    first = await sdk.embeddings.create(model=SMALL, input="same text", encoding_format="float")
    server.state.reset()
    again = await sdk.embeddings.create(model=SMALL, input=["other", "same text"], encoding_format="float")
    assert again.data[1].embedding == first.data[0].embedding
    ada = await sdk.embeddings.create(model="text-embedding-ada-002", input="same text", encoding_format="float")
    assert ada.data[0].embedding != first.data[0].embedding


async def test_token_id_inputs(sdk: openai.AsyncOpenAI) -> None:
    single = await sdk.embeddings.create(model=SMALL, input=[1, 2, 3], encoding_format="float")
    assert len(single.data) == 1
    assert single.usage.prompt_tokens == 3
    several = await sdk.embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(several.data) == 2
    assert several.usage.prompt_tokens == 5
    assert several.data[0].embedding == single.data[0].embedding


async def test_dimensions_shorten_and_renormalise(sdk: openai.AsyncOpenAI) -> None:
    full = (await sdk.embeddings.create(model=SMALL, input="shorten me", encoding_format="float")).data[0]
    short = (
        await sdk.embeddings.create(model=SMALL, input="shorten me", dimensions=256, encoding_format="float")
    ).data[0]
    assert len(short.embedding) == 256
    assert norm(short.embedding) == pytest.approx(1.0, abs=1e-5)
    scale = norm(full.embedding[:256])
    for kept, original in zip(short.embedding, full.embedding[:256], strict=True):
        assert kept == pytest.approx(original / scale, rel=1e-4, abs=1e-6)


async def test_large_model_is_3072_wide(sdk: openai.AsyncOpenAI) -> None:
    result = await sdk.embeddings.create(model="text-embedding-3-large", input="wide", encoding_format="float")
    assert len(result.data[0].embedding) == 3072


def test_base64_is_little_endian_float32(http: httpx.Client) -> None:
    as_floats = post(http, {"model": SMALL, "input": "bytes", "encoding_format": "float"}).json()
    as_text = post(http, {"model": SMALL, "input": "bytes", "encoding_format": "base64"}).json()
    raw = base64.b64decode(as_text["data"][0]["embedding"])
    assert len(raw) == 4 * 1536
    assert list(struct.unpack("<1536f", raw)) == as_floats["data"][0]["embedding"]
    CreateEmbeddingResponse.model_validate(as_floats)


def test_2048_inputs_are_accepted(http: httpx.Client) -> None:
    response = post(http, {"model": SMALL, "input": [f"item {n}" for n in range(2048)], "dimensions": 4})
    assert response.status_code == 200
    data = response.json()["data"]
    assert [item["index"] for item in data] == list(range(2048))
    assert all(len(item["embedding"]) == 4 for item in data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=4),
    dimensions=st.none() | st.integers(1, 1536),
)
def test_any_texts_embed_to_unit_vectors_in_both_encodings(
    http: httpx.Client, texts: list[str], dimensions: int | None
) -> None:
    body: dict[str, Any] = {"model": SMALL, "input": texts}
    if dimensions is not None:
        body["dimensions"] = dimensions
    floats = post(http, {**body, "encoding_format": "float"}).json()["data"]
    encoded = post(http, {**body, "encoding_format": "base64"}).json()["data"]
    width = dimensions or 1536
    for as_floats, as_text in zip(floats, encoded, strict=True):
        vector = as_floats["embedding"]
        assert len(vector) == width
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)
        assert list(struct.unpack(f"<{width}f", base64.b64decode(as_text["embedding"]))) == vector


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"model": SMALL, "input": ""}, 400, "input", "invalid_value"),
        ({"model": SMALL, "input": []}, 400, "input", "invalid_value"),
        ({"model": SMALL, "input": ["ok", ""]}, 400, "input", "invalid_value"),
        ({"model": SMALL, "input": [[1], []]}, 400, "input", "invalid_value"),
        ({"model": SMALL, "input": ["x"] * 2049}, 400, "input", "invalid_value"),
        ({"model": SMALL, "input": ["x", 1]}, 400, "input", "invalid_type"),
        ({"model": SMALL, "input": [True]}, 400, "input", "invalid_type"),
        ({"model": SMALL, "input": {"text": "x"}}, 400, "input", "invalid_type"),
        ({"model": SMALL, "input": "word " * 9000}, 400, "input", "context_length_exceeded"),
        ({"model": SMALL}, 400, "input", "missing_required_parameter"),
        ({"input": "x"}, 400, "model", "missing_required_parameter"),
        ({"model": "no-such-model", "input": "x"}, 404, "model", "model_not_found"),
        ({"model": SMALL, "input": "x", "encoding_format": "int8"}, 400, "encoding_format", "invalid_value"),
        ({"model": SMALL, "input": "x", "dimensions": 0}, 400, "dimensions", "invalid_value"),
        ({"model": SMALL, "input": "x", "dimensions": 1537}, 400, "dimensions", "invalid_value"),
        ({"model": SMALL, "input": "x", "dimensions": "8"}, 400, "dimensions", "invalid_type"),
        ({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}, 400, "dimensions", None),
    ],
)
def test_bad_requests_get_openai_errors(
    strict_models: MockServer, http: httpx.Client, body: dict[str, Any], status: int, param: str, code: str | None
) -> None:
    response = post(http, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]


async def test_sdk_raises_typed_errors(strict_models: MockServer, sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        await sdk.embeddings.create(model="no-such-model", input="x")
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        await sdk.embeddings.create(model=SMALL, input="")
    assert bad.value.param == "input"


FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | FINITE_FLOATS
JSON_VALUES = st.recursive(
    JSON_SCALARS | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["model", "input", "encoding_format", "dimensions", "user", "extra"])
FIELD_VALUES = JSON_VALUES | st.sampled_from([SMALL, "text-embedding-3-large", "float", "base64", 1, 64, 5000])
BODIES = st.dictionaries(FIELDS, FIELD_VALUES, max_size=5) | JSON_VALUES


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_arbitrary_bodies_never_cause_a_server_error(http: httpx.Client, body: Any) -> None:
    response = post(http, body)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code == 200:
        CreateEmbeddingResponse.model_validate(response.json())
    else:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
