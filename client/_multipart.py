"""Encoding ``multipart/form-data`` bodies for file uploads.

A file is given as bytes, a binary file object, a path, or a tuple ``(filename, content[, content_type])`` whose
content is any of those; the upload's filename is the path's or file object's name when there is one. Files and
file objects are read in a worker thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping
from pathlib import PurePath
from typing import IO, TypeAlias

__all__ = ["FileContent", "FileTypes", "encode_multipart"]

FileContent: TypeAlias = bytes | IO[bytes] | os.PathLike[str]
FileTypes: TypeAlias = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]


def _read_blocking(content: IO[bytes] | os.PathLike[str]) -> tuple[bytes, str | None]:
    if isinstance(content, os.PathLike):
        path = os.fspath(content)
        with open(path, "rb") as handle:
            return handle.read(), PurePath(path).name
    name = getattr(content, "name", None)
    return content.read(), PurePath(name).name if isinstance(name, str) else None


async def _read(content: FileContent) -> tuple[bytes, str | None]:
    if isinstance(content, bytes):
        return content, None
    return await asyncio.to_thread(_read_blocking, content)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "%0D").replace("\n", "%0A")


async def encode_multipart(fields: Mapping[str, object], files: Mapping[str, FileTypes]) -> tuple[bytes, str]:
    """The body and its ``content-type`` (with the boundary)."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        parts.append(header.encode() + text.encode() + b"\r\n")
    for name, given in files.items():
        filename: str | None = None
        content_type: str | None = None
        if isinstance(given, tuple):
            filename, raw = given[0], given[1]
            if len(given) == 3:
                content_type = given[2]
            data, own_name = await _read(raw)
        else:
            data, own_name = await _read(given)
        filename = filename or own_name or "upload"
        header = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(filename)}"\r\n'
            f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n"
        )
        parts.append(header.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
