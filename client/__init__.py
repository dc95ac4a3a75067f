"""An async OpenAI client with the official SDK's API, built on a small transport seam."""

from __future__ import annotations

from ._client import AsyncOpenAI
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteStreamError,
    InternalServerError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._http_client import DefaultAsyncHttpxClient
from ._pagination import AsyncCursorPage, AsyncPage, AsyncPaginator
from ._sentinels import NOT_GIVEN, NotGiven
from ._streaming import AsyncStream
from ._transport import AsyncTransport, Timeout
from ._transports import DefaultAioHttpClient, HttpxTransport

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCursorPage",
    "AsyncOpenAI",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncStream",
    "AsyncTransport",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DefaultAioHttpClient",
    "DefaultAsyncHttpxClient",
    "HttpxTransport",
    "IncompleteStreamError",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "Timeout",
    "UnprocessableEntityError",
]
