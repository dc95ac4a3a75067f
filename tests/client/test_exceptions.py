"""Each status maps to the SDK's exception class, with its fields."""

from __future__ import annotations

import pytest
from client_fakes import FakeResponse, fake_client, json_response

import client
from client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from client._transport import TransportError, TransportTimeout
from mockserver import MockServer

ERROR = {"error": {"message": "Bad things", "type": "invalid_request_error", "param": "messages", "code": "bad"}}
MESSAGES = [{"role": "user", "content": "hi"}]


def test_hierarchy() -> None:
    assert issubclass(APIError, OpenAIError)
    assert issubclass(APIStatusError, APIError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    for error_class in (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError):
        assert issubclass(error_class, APIStatusError)
    for error_class in (UnprocessableEntityError, RateLimitError, InternalServerError):
        assert issubclass(error_class, APIStatusError)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_status_maps_to_class_with_fields(status: int, error_class: type[APIStatusError]) -> None:
    reply = json_response(ERROR, status, {"x-request-id": "req_123", "x-should-retry": "false"})
    api, transport, _ = fake_client(reply)
    async with api:
        with pytest.raises(error_class) as caught:
            await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.request_id == "req_123"
    assert error.body == ERROR["error"]
    assert error.message == f"Error code: {status} - Bad things"
    assert (error.code, error.param, error.type) == ("bad", "messages", "invalid_request_error")
    assert error.response.json() == ERROR
    assert error.request is transport.requests[0]
    assert len(transport.requests) == 1
    assert transport.sent[0].closed


async def test_non_json_error_body_is_kept_as_text() -> None:
    api, _, _ = fake_client(FakeResponse(400, {}, [b"<html>oops</html>"]))
    async with api:
        with pytest.raises(BadRequestError) as caught:
            await api.models.retrieve("gpt-4o")
    assert caught.value.body == "<html>oops</html>"
    assert caught.value.code is None
    assert caught.value.message == "Error code: 400"


@pytest.mark.parametrize(
    ("failure", "error_class", "message"),
    [
        (TransportError("refused"), APIConnectionError, "Connection error."),
        (TransportTimeout("slow"), APITimeoutError, "Request timed out."),
    ],
)
async def test_transport_failures_are_mapped(failure: Exception, error_class: type[Exception], message: str) -> None:
    api, transport, _ = fake_client(failure, max_retries=0)
    async with api:
        with pytest.raises(error_class) as caught:
            await api.models.list()
    assert type(caught.value) is error_class
    assert str(caught.value) == message
    assert caught.value.__cause__ is failure
    assert len(transport.requests) == 1


async def test_unexpected_body_shape_is_a_validation_error() -> None:
    api, _, _ = fake_client(json_response({"id": 5, "choices": "nope"}))
    async with api:
        with pytest.raises(APIResponseValidationError) as caught:
            await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.status_code == 200


async def test_server_errors_have_openai_shape(strict_models: MockServer) -> None:
    server = strict_models
    async with client.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as api:
        with pytest.raises(NotFoundError) as caught:
            await api.models.retrieve("no-such-model")
        with pytest.raises(BadRequestError) as bad:
            await api.chat.completions.create(model="gpt-4o", messages=[])
    assert caught.value.code == "model_not_found"
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("req_")
    assert bad.value.type == "invalid_request_error"
