"""``client.files``: create (multipart upload), list, retrieve, delete, content."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._multipart import FileTypes, encode_multipart
from .._pagination import AsyncCursorPage, AsyncPaginator, CursorPageBody
from .._response import HTTPResponse
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.files import FileDeleted, FileObject
from ._base import APIResource, Extras

__all__ = ["BinaryContent", "Files"]

_FILE = msgspec.json.Decoder(FileObject)
_DELETED = msgspec.json.Decoder(FileDeleted)
_PAGE = msgspec.json.Decoder(CursorPageBody[FileObject])


class BinaryContent:
    """A file's bytes (``files.content``), already read: ``.content``, ``.text``, ``.json()``, ``.read()``."""

    __slots__ = ("response",)

    def __init__(self, response: HTTPResponse) -> None:
        self.response = response

    @property
    def content(self) -> bytes:
        return self.response.content

    @property
    def text(self) -> str:
        return self.response.text

    def json(self) -> Any:
        return self.response.json()

    def read(self) -> bytes:
        return self.response.content

    async def aread(self) -> bytes:
        return self.response.content


def _flatten(prefix: str, value: object) -> dict[str, object]:
    if isinstance(value, Mapping):
        flat: dict[str, object] = {}
        for key, item in value.items():
            flat.update(_flatten(f"{prefix}[{key}]", item))
        return flat
    return {prefix: value}


class Files(APIResource):
    async def create(
        self,
        *,
        file: FileTypes,
        purpose: str,
        expires_after: Mapping[str, object] | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file: bytes, a binary file object, a path, or ``(filename, content[, content_type])``."""
        fields: dict[str, object] = {"purpose": purpose}
        if not isinstance(expires_after, NotGiven):
            fields.update(_flatten("expires_after", expires_after))
        for key, value in (extra_body or {}).items():
            fields.update(_flatten(key, value))
        content, content_type = await encode_multipart(fields, {"file": file})
        extras = Extras(extra_headers, extra_query, None, timeout)
        call = self._call("POST", "/files", extras, content=content, content_type=content_type)
        return await self._fetch(call, _FILE)

    async def retrieve(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("GET", f"/files/{path_segment(file_id)}", extras), _FILE)

    async def delete(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("DELETE", f"/files/{path_segment(file_id)}", extras), _DELETED)

    async def content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> BinaryContent:
        headers = {"accept": "application/binary", **(extra_headers or {})}
        extras = Extras(headers, extra_query, extra_body, timeout)
        return BinaryContent(
            await self._fetch_raw(self._call("GET", f"/files/{path_segment(file_id)}/content", extras))
        )

    def list(
        self,
        *,
        after: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        order: str | NotGiven = NOT_GIVEN,
        purpose: str | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[FileObject, AsyncCursorPage[FileObject]]:
        params = {"after": after, "limit": limit, "order": order, "purpose": purpose}
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return self._cursor_list("/files", _PAGE, params, extras)
