"""The exception hierarchy, with the official SDK's names, fields and status-code mapping.

``request`` is the :class:`~client._transport.TransportRequest` that was sent and ``response`` (status errors only)
an :class:`~client._response.HTTPResponse` holding the body that was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ._response import HTTPResponse
from ._transport import TransportRequest

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IncompleteStreamError",
    "InternalServerError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "make_status_error",
]


class OpenAIError(Exception):
    """The root of every error this client raises."""


class APIError(OpenAIError):
    """An error tied to a request; ``body`` is the JSON ``error`` object when the server sent one."""

    message: str
    request: TransportRequest
    body: object | None
    code: str | None
    param: str | None
    type: str | None

    def __init__(self, message: str, request: TransportRequest, *, body: object | None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        if isinstance(body, Mapping):
            code = body.get("code")
            param = body.get("param")
            kind = body.get("type")
            self.code = str(code) if code is not None else None
            self.param = str(param) if param is not None else None
            self.type = str(kind) if kind is not None else None
        else:
            self.code = None
            self.param = None
            self.type = None


class APIResponseValidationError(APIError):
    """The server answered with a body that does not have the expected shape."""

    response: HTTPResponse
    status_code: int

    def __init__(self, response: HTTPResponse, body: object | None, *, message: str | None = None) -> None:
        super().__init__(message or "Data returned by API invalid for expected schema.", response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status."""

    response: HTTPResponse
    status_code: int
    request_id: str | None

    def __init__(self, message: str, *, response: HTTPResponse, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")


class APIConnectionError(APIError):
    """The request could not be sent, or the response could not be read to its end."""

    def __init__(self, *, message: str = "Connection error.", request: TransportRequest) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """A phase of the exchange took longer than its timeout allows."""

    def __init__(self, request: TransportRequest) -> None:
        super().__init__(message="Request timed out.", request=request)


class IncompleteStreamError(APIConnectionError):
    """A stream's body ended before its terminal event (``[DONE]``, or a terminal Responses event): the answer
    is incomplete. Not part of the official SDK, which ends such a stream silently."""

    def __init__(self, *, request: TransportRequest, expected: str) -> None:
        super().__init__(message=f"Stream ended before its terminal event ({expected}).", request=request)


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


_ERROR_BY_STATUS: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: HTTPResponse) -> APIStatusError:
    """The exception for a 4xx/5xx response: message ``Error code: <status> - <error.message>``, ``body`` the
    ``error`` object (or the whole JSON body, or the text when it is not JSON)."""
    message = f"Error code: {response.status_code}"
    body: Any
    text = response.text.strip()
    try:
        body = msgspec.json.decode(text) if text else None
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deep to decode
        body = text or None
    if isinstance(body, Mapping):
        body = body.get("error", body)
        detail = body.get("message") if isinstance(body, Mapping) else None
        if isinstance(detail, str) and detail:
            message = f"{message} - {detail}"
    status = response.status_code
    error_class = _ERROR_BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    return error_class(message, response=response, body=body)
