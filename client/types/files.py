"""File objects."""

from __future__ import annotations

from typing import Any

from ._base import APIObject

__all__ = ["FileDeleted", "FileObject"]


class FileObject(APIObject):
    id: str = ""
    object: str = "file"
    bytes: int = 0
    created_at: int = 0
    filename: str = ""
    purpose: str = ""
    status: str | None = None
    status_details: Any = None
    expires_at: int | None = None


class FileDeleted(APIObject):
    id: str = ""
    object: str = "file"
    deleted: bool = False
