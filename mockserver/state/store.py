"""An insertion-ordered store of JSON objects by id, with OpenAI's cursor pagination.

``page`` costs O(page size) (plus the items a ``where`` filter skips): the store keeps the ids in creation order with
an id -> position index, so a cursor is found in O(1) instead of by a walk over everything before it. Deleted ids
leave a hole that a later compaction removes, so deleting stays O(1) amortised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Page", "ResourceStore"]

Item = dict[str, Any]

#: compact the id list once it holds more holes than this and more holes than live ids
_COMPACT_AT = 64


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Item]
    has_more: bool

    def body(self, *, first_last: bool) -> dict[str, Any]:
        """The list object OpenAI sends; ``first_last`` adds ``first_id``/``last_id`` where OpenAI does."""
        body: dict[str, Any] = {"object": "list", "data": self.data}
        if first_last:
            body["first_id"] = self.data[0]["id"] if self.data else None
            body["last_id"] = self.data[-1]["id"] if self.data else None
        body["has_more"] = self.has_more
        return body


class ResourceStore:
    """Objects in creation order. ``page`` walks them oldest-first (``asc``) or newest-first (``desc``)."""

    __slots__ = ("_holes", "_items", "_order", "_position")

    def __init__(self) -> None:
        self._items: dict[str, Item] = {}
        #: ids in creation order; ``None`` marks a deleted one until the next compaction
        self._order: list[str | None] = []
        self._position: dict[str, int] = {}
        self._holes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ident: object) -> bool:
        return ident in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items.values())

    def add(self, item: Item) -> Item:
        """Store ``item`` under its ``id``; an id already stored is replaced in place (its position is kept)."""
        ident = item["id"]
        if ident not in self._items:
            self._position[ident] = len(self._order)
            self._order.append(ident)
        self._items[ident] = item
        return item

    def get(self, ident: str) -> Item | None:
        return self._items.get(ident)

    def delete(self, ident: str) -> Item | None:
        item = self._items.pop(ident, None)
        if item is not None:
            self._order[self._position.pop(ident)] = None
            self._holes += 1
            if self._holes > _COMPACT_AT and self._holes > len(self._items):
                self._compact()
        return item

    def clear(self) -> None:
        self._items.clear()
        self._order.clear()
        self._position.clear()
        self._holes = 0

    def page(
        self,
        *,
        after: str | None,
        limit: int,
        order: Literal["asc", "desc"],
        where: Callable[[Item], bool] | None = None,
    ) -> Page:
        """Up to ``limit`` items strictly after the item ``after`` in ``order``.

        ``after=None`` starts from the beginning of ``order``; an id that is not (or no longer) in the store gives
        an empty last page, so a client never loops. ``after`` need not match ``where``. ``has_more`` is exact: it
        is true only if at least one more matching item follows the page.
        """
        step = 1 if order == "asc" else -1
        if after is None:
            index = 0 if step == 1 else len(self._order) - 1
        elif after in self._position:
            index = self._position[after] + step
        else:
            return Page([], False)
        chunk: list[Item] = []
        end = len(self._order)
        while 0 <= index < end:
            ident = self._order[index]
            index += step
            if ident is None:
                continue
            item = self._items[ident]
            if where is not None and not where(item):
                continue
            if len(chunk) == limit:
                return Page(chunk, True)
            chunk.append(item)
        return Page(chunk, False)

    def _compact(self) -> None:
        live = [ident for ident in self._order if ident is not None]
        self._order = list(live)
        self._position = {ident: position for position, ident in enumerate(live)}
        self._holes = 0
