"""An async OpenAI client with the official SDK's API, built on a small transport seam.

Data flow: a resource method (``client.chat.completions.create``) encodes its JSON body (msgspec) and describes the
call (:class:`~client._request.APICall`); the :class:`~client._request.Requester` adds the client's headers, query and
timeout, sends it through the transport (httpx by default, aiohttp with ``DefaultAioHttpClient()``) and runs the
retry loop; the body is decoded straight from bytes into msgspec Structs (``client.types``), or, for a stream, handed
to :class:`AsyncStream`, which splits SSE events at the byte level and decodes each one.

Cancellation flow: a call cancelled while sending or waiting for headers leaves the transport to drop the
connection; cancelled while reading a body, the ``finally`` in the requester closes the response; a stream closes its
response in a ``finally`` and also when the task iterating it ends. Nothing unreleased goes back to the pool.

Deliberate divergences from the official SDK: a stream that ends without ``[DONE]`` (or without a terminal Responses
event) raises :class:`IncompleteStreamError`; a Responses ``error`` event raises :class:`APIError`; errors carry the
transport's request and an :class:`~client._response.HTTPResponse` rather than httpx objects; ``with_raw_response``
and ``with_streaming_response`` are not provided.
"""

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

# Public names print as ``client.AsyncOpenAI``, not as the private module that defines them (as httpx does).
for _name in __all__:
    if isinstance(globals()[_name], type) or callable(globals()[_name]):
        globals()[_name].__module__ = __name__
del _name
