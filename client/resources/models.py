"""``client.models``: list, retrieve, delete."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from .._pagination import AsyncPage, AsyncPaginator, ListBody
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.models import Model, ModelDeleted
from ._base import APIResource, Extras

__all__ = ["Models"]

_MODEL = msgspec.json.Decoder(Model)
_DELETED = msgspec.json.Decoder(ModelDeleted)
_LIST = msgspec.json.Decoder(ListBody[Model])


class Models(APIResource):
    async def retrieve(
        self,
        model: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> Model:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("GET", f"/models/{path_segment(model)}", extras), _MODEL)

    def list(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Model, AsyncPage[Model]]:
        """Every model, in one page."""
        extras = Extras(extra_headers, extra_query, extra_body, timeout)

        async def first_page() -> AsyncPage[Model]:
            return AsyncPage(await self._fetch(self._call("GET", "/models", extras), _LIST))

        return AsyncPaginator(first_page)

    async def delete(
        self,
        model: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> ModelDeleted:
        """Delete a fine-tuned model."""
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("DELETE", f"/models/{path_segment(model)}", extras), _DELETED)
