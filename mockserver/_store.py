"""An insertion-ordered store of JSON objects by id, with OpenAI's cursor pagination."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Page", "ResourceStore"]

Item = dict[str, Any]


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

    def __init__(self) -> None:
        self._items: dict[str, Item] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ident: object) -> bool:
        return ident in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items.values())

    def add(self, item: Item) -> Item:
        self._items[item["id"]] = item
        return item

    def get(self, ident: str) -> Item | None:
        return self._items.get(ident)

    def delete(self, ident: str) -> Item | None:
        return self._items.pop(ident, None)

    def clear(self) -> None:
        self._items.clear()

    def page(
        self,
        *,
        after: str | None,
        limit: int,
        order: Literal["asc", "desc"],
        where: Callable[[Item], bool] | None = None,
    ) -> Page:
        """Up to ``limit`` items strictly after the item ``after`` in ``order``.

        An ``after`` id that is not (or no longer) in the store starts from the beginning of ``order``
        only if it is ``None``; an unknown id gives an empty last page, so a client never loops.
        """
        items = list(self._items.values())
        if order == "desc":
            items.reverse()
        if where is not None:
            items = [item for item in items if where(item)]
        start = 0
        if after is not None:
            for position, item in enumerate(items):
                if item["id"] == after:
                    start = position + 1
                    break
            else:
                return Page([], False)
        chunk = items[start : start + limit]
        return Page(chunk, start + limit < len(items))
