"""Model objects."""

from __future__ import annotations

from ._base import APIObject

__all__ = ["Model", "ModelDeleted"]


class Model(APIObject):
    id: str = ""
    object: str = "model"
    created: int = 0
    owned_by: str = ""


class ModelDeleted(APIObject):
    id: str = ""
    object: str = "model"
    deleted: bool = False
