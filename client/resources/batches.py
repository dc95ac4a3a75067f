"""``client.batches``: create, list, retrieve, cancel."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._pagination import AsyncCursorPage, AsyncPaginator, CursorPageBody
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.batches import Batch
from ._base import APIResource, Extras

__all__ = ["Batches"]

_BATCH = msgspec.json.Decoder(Batch)
_PAGE = msgspec.json.Decoder(CursorPageBody[Batch])


class Batches(APIResource):
    async def create(
        self,
        *,
        completion_window: str,
        endpoint: str,
        input_file_id: str,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Batch:
        body = {"completion_window": completion_window, "endpoint": endpoint, "input_file_id": input_file_id}
        body.update(params)
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("POST", "/batches", extras, json=body), _BATCH)

    async def retrieve(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> Batch:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("GET", f"/batches/{path_segment(batch_id)}", extras), _BATCH)

    async def cancel(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> Batch:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("POST", f"/batches/{path_segment(batch_id)}/cancel", extras), _BATCH)

    def list(
        self,
        *,
        after: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Batch, AsyncCursorPage[Batch]]:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return self._cursor_list("/batches", _PAGE, {"after": after, "limit": limit}, extras)
