"""Sending one API call: building the request, the retry loop, and mapping failures to the SDK's exceptions.

A call is retried (up to ``max_retries`` times) when sending fails, when reading a non-streamed body fails, or when
the status is retryable (see :mod:`client._retry`). A streamed call is retried only until its headers have arrived;
the body is then handed to the caller and never retried. A response that is not kept is always closed, also when the
task is cancelled while waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import msgspec

from ._exceptions import APIConnectionError, APITimeoutError, make_status_error
from ._response import HTTPResponse
from ._retry import RetryTiming, retry_delay, should_retry
from ._sentinels import NOT_GIVEN, NotGiven
from ._sse import DEFAULT_MAX_EVENT_BYTES
from ._timeout import TimeoutLike, coerce_timeout
from ._transport import (
    AsyncTransport,
    RequestHeaders,
    Timeout,
    TransportError,
    TransportRequest,
    TransportResponse,
    TransportTimeout,
)
from ._url import build_url

__all__ = ["APICall", "ClientSettings", "Requester", "encode_json_body"]

_JSON_ENCODER = msgspec.json.Encoder()


def encode_json_body(params: Mapping[str, object], extra_body: Mapping[str, object] | None) -> bytes:
    """The JSON body: the given parameters (leaving out ``NOT_GIVEN``), then ``extra_body`` on top."""
    body = {key: value for key, value in params.items() if not isinstance(value, NotGiven)}
    if extra_body:
        body.update(extra_body)
    return _JSON_ENCODER.encode(body)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything a client contributes to each request; immutable, shared by the requests it sends."""

    base_url: str
    #: lower-case header names; includes authorization and the platform headers
    headers: Mapping[str, str]
    default_query: Mapping[str, object]
    timeout: Timeout
    max_retries: int
    timing: RetryTiming
    #: the cap on one stream event's size (see :class:`~client._sse.SSEDecoder`)
    max_stream_event_bytes: int = DEFAULT_MAX_EVENT_BYTES


@dataclass(frozen=True, slots=True)
class APICall:
    """One call as a resource method describes it."""

    method: str
    path: str
    content: bytes | None = None
    content_type: str | None = "application/json"
    query: Mapping[str, object] | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, object] | None = None
    timeout: TimeoutLike | NotGiven = NOT_GIVEN


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another attempt."""


class Requester:
    """Sends calls through a transport with a client's settings."""

    __slots__ = ("_is_closed", "settings", "transport")

    def __init__(self, settings: ClientSettings, transport: AsyncTransport, is_closed: Callable[[], bool]) -> None:
        self.settings = settings
        self.transport = transport
        self._is_closed = is_closed

    def _headers(self, call: APICall, timeout: Timeout) -> RequestHeaders:
        headers = RequestHeaders(self.settings.headers)
        if call.content_type is not None and call.content is not None:
            headers["content-type"] = call.content_type
        if timeout.read is not None:
            headers["x-stainless-read-timeout"] = str(timeout.read)
        if call.extra_headers:
            for name, value in call.extra_headers.items():
                headers[name.lower()] = value
        return headers

    def _url(self, call: APICall) -> str:
        query: Mapping[str, object] | None = call.query
        if self.settings.default_query or call.extra_query:
            query = {**self.settings.default_query, **(call.query or {}), **(call.extra_query or {})}
        return build_url(self.settings.base_url, call.path, query)

    async def send(self, call: APICall, *, stream: bool = False) -> tuple[TransportResponse, TransportRequest, bytes]:
        """The response with a 2xx status, the request that got it, and its body (empty when ``stream``: the
        caller then owns the open response and must close it)."""
        if self._is_closed():
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        settings = self.settings
        timeout = settings.timeout if isinstance(call.timeout, NotGiven) else coerce_timeout(call.timeout)
        headers = self._headers(call, timeout)
        set_retry_count = "x-stainless-retry-count" not in headers
        url = self._url(call)
        max_retries = settings.max_retries
        timing = settings.timing
        retries_taken = 0
        while True:
            if set_retry_count:
                headers["x-stainless-retry-count"] = str(retries_taken)
            request = TransportRequest(call.method, url, RequestHeaders(headers), call.content, timeout)
            can_retry = retries_taken < max_retries
            retry_headers: Mapping[str, str] | None = None
            try:
                try:
                    response = await self.transport.send(request)
                except TransportError as error:
                    raise self._connection_error(error, request, can_retry) from error
                status = response.status_code
                if status >= 400:
                    retry_headers = response.headers
                    # read the (small) error body even when retrying, so the connection can be reused
                    failed = await _read_error(response, request)
                    if can_retry and should_retry(status, retry_headers, timing.now):
                        raise _Retry
                    raise make_status_error(failed)
                if stream:
                    return response, request, b""
                try:
                    content = await response.aread()
                except TransportError as error:
                    raise self._connection_error(error, request, can_retry) from error
                finally:
                    await response.aclose()
                return response, request, content
            except _Retry:
                pass
            await timing.sleep(retry_delay(retries_taken, retry_headers, random=timing.random, now=timing.now))
            retries_taken += 1

    @staticmethod
    def _connection_error(error: TransportError, request: TransportRequest, can_retry: bool) -> Exception:
        if can_retry:
            return _Retry()
        if isinstance(error, TransportTimeout):
            return APITimeoutError(request)
        return APIConnectionError(request=request)


async def _read_error(response: TransportResponse, request: TransportRequest) -> HTTPResponse:
    """The whole error response; a body that cannot be read counts as empty."""
    try:
        content = await response.aread()
    except TransportError:
        content = b""
    finally:
        await response.aclose()
    return HTTPResponse(response.status_code, response.headers, content, request)
