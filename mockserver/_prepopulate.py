"""Items that exist before the first request, as many as the config's ``prepopulate`` asks for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._state import ServerState

__all__ = ["prepopulate"]


def prepopulate(state: ServerState) -> None:
    """Fill ``state``'s stores with deterministic items (filled in by the stateful-resources work)."""
