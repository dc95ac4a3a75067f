"""``client.chat.completions``: create (streamed or not) and the stored completions (list, retrieve, delete)."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import msgspec

from .._pagination import AsyncCursorPage, AsyncPaginator, CursorPageBody
from .._sentinels import NOT_GIVEN, NotGiven
from .._streaming import CHAT_STREAM, AsyncStream
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionDeleted
from ._base import APIResource, Extras

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["Chat", "Completions"]

_COMPLETION = msgspec.json.Decoder(ChatCompletion)
_CHUNK = msgspec.json.Decoder(ChatCompletionChunk)
_DELETED = msgspec.json.Decoder(ChatCompletionDeleted)
_PAGE = msgspec.json.Decoder(CursorPageBody[ChatCompletion])


class Completions(APIResource):
    @overload
    async def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        stream: Literal[False] | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        stream: Literal[True],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...

    async def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Create a chat completion; every request field (``temperature``, ``tools``, ``stream_options``...) is
        passed through as given."""
        body: dict[str, object] = {"messages": list(messages), "model": model, **params}
        if stream:
            body["stream"] = True
        elif stream is not None and not isinstance(stream, NotGiven):
            body["stream"] = False
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("POST", "/chat/completions", extras, json=body)
        if stream:
            return await self._stream(call, _CHUNK, CHAT_STREAM)
        return await self._fetch(call, _COMPLETION)

    async def retrieve(
        self,
        completion_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> ChatCompletion:
        """A stored chat completion (created with ``store=True``)."""
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("GET", f"/chat/completions/{path_segment(completion_id)}", extras)
        return await self._fetch(call, _COMPLETION)

    async def delete(
        self,
        completion_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> ChatCompletionDeleted:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("DELETE", f"/chat/completions/{path_segment(completion_id)}", extras)
        return await self._fetch(call, _DELETED)

    def list(
        self,
        *,
        after: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        order: Literal["asc", "desc"] | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[ChatCompletion, AsyncCursorPage[ChatCompletion]]:
        """Stored chat completions, page by page."""
        params = {"after": after, "limit": limit, "metadata": metadata, "model": model, "order": order}
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return self._cursor_list("/chat/completions", _PAGE, params, extras)


class Chat(APIResource):
    __slots__ = ("completions",)

    def __init__(self, client: AsyncOpenAI) -> None:
        super().__init__(client)
        self.completions = Completions(client)
