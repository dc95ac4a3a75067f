"""``client.completions.create``: the legacy completions endpoint (streamed or not)."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

import msgspec

from .._sentinels import NOT_GIVEN, NotGiven
from .._streaming import CHAT_STREAM, AsyncStream
from .._timeout import TimeoutLike
from ..types.completions import Completion
from ._base import APIResource, Extras

__all__ = ["Completions"]

_COMPLETION = msgspec.json.Decoder(Completion)


class Completions(APIResource):
    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: object,
        stream: Literal[False] | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Completion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: object,
        stream: Literal[True],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> AsyncStream[Completion]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: object,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Completion | AsyncStream[Completion]: ...

    async def create(
        self,
        *,
        model: str,
        prompt: object,
        stream: bool | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Completion | AsyncStream[Completion]:
        body: dict[str, object] = {"model": model, "prompt": prompt, **params}
        if stream is not None and not isinstance(stream, NotGiven):
            body["stream"] = bool(stream)
        call = self._call("POST", "/completions", Extras(extra_headers, extra_query, extra_body, timeout), json=body)
        if stream:
            return await self._stream(call, _COMPLETION, CHAT_STREAM)
        return await self._fetch(call, _COMPLETION)
