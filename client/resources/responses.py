"""``client.responses``: create (streamed or not), retrieve, delete."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

import msgspec

from .._sentinels import NOT_GIVEN, NotGiven
from .._streaming import RESPONSES_STREAM, AsyncStream
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.responses import Response, ResponseDeleted, ResponseStreamEvent
from ._base import APIResource, Extras

__all__ = ["Responses"]

_RESPONSE = msgspec.json.Decoder(Response)
_EVENT = msgspec.json.Decoder(ResponseStreamEvent)
_DELETED = msgspec.json.Decoder(ResponseDeleted)


class Responses(APIResource):
    @overload
    async def create(
        self,
        *,
        stream: Literal[False] | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        stream: Literal[True],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> AsyncStream[ResponseStreamEvent]: ...

    @overload
    async def create(
        self,
        *,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Response | AsyncStream[ResponseStreamEvent]: ...

    async def create(
        self,
        *,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Response | AsyncStream[ResponseStreamEvent]:
        """Create a model response (``model=``, ``input=``, ``instructions=``, ``tools=``... passed through)."""
        body: dict[str, object] = dict(params)
        if stream is not None and not isinstance(stream, NotGiven):
            body["stream"] = bool(stream)
        call = self._call("POST", "/responses", Extras(extra_headers, extra_query, extra_body, timeout), json=body)
        if stream:
            return await self._stream(call, _EVENT, RESPONSES_STREAM)
        return await self._fetch(call, _RESPONSE)

    async def retrieve(
        self,
        response_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> Response:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("GET", f"/responses/{path_segment(response_id)}", extras)
        return await self._fetch(call, _RESPONSE)

    async def delete(
        self,
        response_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> ResponseDeleted:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("DELETE", f"/responses/{path_segment(response_id)}", extras)
        return await self._fetch(call, _DELETED)
