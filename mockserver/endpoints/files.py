"""``/v1/files``: multipart upload, cursor list, retrieve, delete and content of uploaded files.

The stored ``filename`` is only the last path component of what the client sent, with control and format
characters removed, so a name like ``../../etc/passwd`` or ``a\\x00b`` can never point anywhere; nothing is
written to disk (the bytes live in ``state.file_contents``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, invalid_type, invalid_value, missing_parameter
from ..wire.fields import optional_choice
from ..wire.list_query import ListQuery
from ..wire.replies import BytesReply, JSONReply

__all__ = ["PURPOSES", "file_object", "require_file", "routes", "safe_filename"]

#: the purposes an upload may declare
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_LIMIT = 10_000
#: ``expires_after.seconds`` bounds (1 hour .. 30 days); batch files expire after 30 days unless told otherwise
MIN_EXPIRY_SECONDS = 3600
MAX_EXPIRY_SECONDS = 30 * 24 * 3600
_MAX_FILENAME = 255
_FALLBACK_FILENAME = "upload"


def safe_filename(raw: str | None) -> str:
    """The basename of ``raw`` without control/format characters; never empty, ``.`` or ``..``."""
    printable = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C")
    name = printable.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return _FALLBACK_FILENAME
    return name[-_MAX_FILENAME:]


def file_object(
    ident: str, *, size: int, created_at: int, filename: str, purpose: str, expires_at: int | None = None
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "file",
        "bytes": size,
        "created_at": created_at,
        "expires_at": expires_at,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }


def require_file(state: ServerState, ident: str, *, param: str = "id") -> dict[str, Any]:
    """The stored file ``ident``, or OpenAI's 404."""
    item = state.files.get(ident)
    if item is None:
        raise APIErrorResponse(404, f"No such File object: {ident}", param=param)
    return item


@asynccontextmanager
async def _multipart(request: Request) -> AsyncIterator[FormData]:
    """The request's form, closed (with its spooled upload) on exit; unparseable bodies are OpenAI-shaped 400s."""
    try:
        form = await request.form(max_files=1, max_fields=16)
    except HTTPException as exc:
        raise APIErrorResponse(exc.status_code, f"Could not parse the multipart form: {exc.detail}") from None
    try:
        yield form
    finally:
        await form.close()


async def create_file(call: Call) -> JSONReply:
    async with _multipart(call.request) as form:
        upload = form.get("file")
        if upload is None:
            raise missing_parameter("file")
        if not isinstance(upload, UploadFile):
            raise invalid_type("file", "a file", upload)
        purpose = _purpose(form)
        content = await upload.read()
        filename = safe_filename(upload.filename)
        expiry = _expiry_seconds(form, purpose)
    state = call.state
    created = state.now()
    item = file_object(
        state.ids.new("file-", 22),
        size=len(content),
        created_at=created,
        filename=filename,
        purpose=purpose,
        expires_at=created + expiry if expiry is not None else None,
    )
    state.files.add(item)
    state.file_contents[item["id"]] = content
    return JSONReply(item)


def _purpose(form: FormData) -> str:
    purpose = form.get("purpose")
    if purpose is None or purpose == "":
        raise missing_parameter("purpose")
    if not isinstance(purpose, str):
        raise invalid_type("purpose", "a string", purpose)
    chosen = optional_choice({"purpose": purpose}, "purpose", PURPOSES)
    assert chosen is not None
    return chosen


def _expiry_seconds(form: FormData, purpose: str) -> int | None:
    anchor = form.get("expires_after[anchor]")
    seconds = form.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return MAX_EXPIRY_SECONDS if purpose == "batch" else None
    if anchor != "created_at":
        raise invalid_value("expires_after.anchor", f"Invalid value: '{anchor}'. Supported values are: 'created_at'.")
    if not isinstance(seconds, str) or not seconds.strip().isdigit():
        raise invalid_type("expires_after.seconds", "an integer", seconds)
    value = int(seconds)
    if not MIN_EXPIRY_SECONDS <= value <= MAX_EXPIRY_SECONDS:
        raise invalid_value(
            "expires_after.seconds",
            f"Invalid 'expires_after.seconds': {value} is outside the range "
            f"{MIN_EXPIRY_SECONDS} to {MAX_EXPIRY_SECONDS}.",
        )
    return value


async def list_files(call: Call) -> JSONReply:
    params = call.request.query_params
    query = ListQuery.parse(params, default_limit=MAX_LIMIT, max_limit=MAX_LIMIT, default_order="desc")
    purpose = params.get("purpose") or None
    page = call.state.files.page(
        after=query.after,
        limit=query.limit,
        order=query.order,
        where=None if purpose is None else (lambda item: item["purpose"] == purpose),
    )
    return JSONReply(page.body(first_last=True))


async def retrieve_file(call: Call) -> JSONReply:
    return JSONReply(require_file(call.state, call.path_params["file_id"]))


async def delete_file(call: Call) -> JSONReply:
    ident = call.path_params["file_id"]
    require_file(call.state, ident)
    call.state.files.delete(ident)
    call.state.file_contents.pop(ident, None)
    return JSONReply({"id": ident, "object": "file", "deleted": True})


async def file_content(call: Call) -> BytesReply:
    ident = call.path_params["file_id"]
    require_file(call.state, ident)
    return BytesReply(call.state.file_contents.get(ident, b""))


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/files", Endpoint(create_file, json_body=False), methods=["POST"]),
        Route("/v1/files", Endpoint(list_files, json_body=False), methods=["GET"]),
        Route("/v1/files/{file_id}", Endpoint(retrieve_file, json_body=False), methods=["GET"]),
        Route("/v1/files/{file_id}", Endpoint(delete_file, json_body=False), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", Endpoint(file_content, json_body=False), methods=["GET"]),
    ]
