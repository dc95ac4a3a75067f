"""What every resource shares: sending calls through its client and decoding the answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import msgspec

from .._exceptions import APIResponseValidationError
from .._pagination import AsyncCursorPage, AsyncPaginator, CursorPageBody
from .._request import APICall, encode_json_body
from .._response import HTTPResponse
from .._sentinels import NOT_GIVEN, NotGiven
from .._streaming import AsyncStream, StreamProtocol
from .._timeout import TimeoutLike

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["APIResource", "Extras"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Extras:
    """The per-call options every method takes."""

    headers: Mapping[str, str] | None = None
    query: Mapping[str, object] | None = None
    body: Mapping[str, object] | None = None
    timeout: TimeoutLike | NotGiven = NOT_GIVEN


class APIResource:
    """A group of endpoints (``client.chat.completions``, ``client.files``...)."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @staticmethod
    def _call(
        method: str,
        path: str,
        extras: Extras,
        *,
        json: Mapping[str, object] | None = None,
        content: bytes | None = None,
        content_type: str | None = "application/json",
        query: Mapping[str, object] | None = None,
    ) -> APICall:
        if json is not None or (extras.body and content is None and method != "GET"):
            content = encode_json_body(json or {}, extras.body)
        return APICall(
            method=method,
            path=path,
            content=content,
            content_type=content_type,
            query=query,
            extra_headers=extras.headers,
            extra_query=extras.query,
            timeout=extras.timeout,
        )

    async def _fetch(self, call: APICall, decoder: msgspec.json.Decoder[T]) -> T:
        response, request, content = await self._client._requester.send(call)
        try:
            result: T = decoder.decode(content)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as error:  # RecursionError: too deep
            answer = HTTPResponse(response.status_code, response.headers, content, request)
            raise APIResponseValidationError(answer, answer.text, message=f"Invalid response body: {error}") from error
        return result

    async def _fetch_raw(self, call: APICall) -> HTTPResponse:
        response, request, content = await self._client._requester.send(call)
        return HTTPResponse(response.status_code, response.headers, content, request)

    async def _stream(
        self, call: APICall, decoder: msgspec.json.Decoder[T], protocol: StreamProtocol
    ) -> AsyncStream[T]:
        response, request, _ = await self._client._requester.send(call, stream=True)
        requester = self._client._requester
        return AsyncStream(
            response=response,
            request=request,
            decoder=decoder,
            protocol=protocol,
            max_event_bytes=requester.settings.max_stream_event_bytes,
        )

    def _cursor_list(
        self,
        path: str,
        decoder: msgspec.json.Decoder[CursorPageBody[T]],
        params: Mapping[str, object],
        extras: Extras,
    ) -> AsyncPaginator[T, AsyncCursorPage[T]]:
        async def fetch(page_params: Mapping[str, object]) -> AsyncCursorPage[T]:
            call = self._call("GET", path, extras, query=page_params)
            body = await self._fetch(call, decoder)
            return AsyncCursorPage(body, params=page_params, fetch=fetch)

        given = {key: value for key, value in params.items() if value is not None and not isinstance(value, NotGiven)}
        return AsyncPaginator(lambda: fetch(given))
