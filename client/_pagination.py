"""Pages of list results, and the paginator ``list()`` returns: awaitable (the first page) and async-iterable
(every item, across pages).

Cursor pages ask for the next page with the original parameters plus ``after=<id of the last item>`` while
``has_more`` is true and the page is not empty. Iterating stops fetching as soon as the caller stops iterating.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Any, Generic, Protocol, TypeVar

import msgspec

__all__ = ["AsyncCursorPage", "AsyncPage", "AsyncPaginator", "CursorPageBody", "ListBody"]

T = TypeVar("T")
PageT = TypeVar("PageT", bound="_Page[Any]")


class ListBody(msgspec.Struct, Generic[T], kw_only=True):
    """``{"object": "list", "data": [...]}``: a list that is never paged."""

    object: str = "list"
    data: list[T] = []


class CursorPageBody(msgspec.Struct, Generic[T], kw_only=True):
    """A page of a cursor-paged list, as it arrives."""

    object: str = "list"
    data: list[T] = []
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class _Page(Protocol[T]):
    data: list[T]

    def has_next_page(self) -> bool: ...

    def get_next_page(self) -> Awaitable[_Page[T]]: ...

    def __aiter__(self) -> AsyncIterator[T]: ...


class AsyncPage(Generic[T]):
    """A list that arrives whole (``models.list``): one page, no next page."""

    __slots__ = ("data", "object")

    def __init__(self, body: ListBody[T]) -> None:
        self.data = body.data
        self.object = body.object

    def has_next_page(self) -> bool:
        return False

    async def get_next_page(self) -> AsyncPage[T]:
        raise RuntimeError("No more pages: check has_next_page() first.")

    async def __aiter__(self) -> AsyncIterator[T]:
        for item in self.data:
            yield item

    def __repr__(self) -> str:
        return f"AsyncPage(data={self.data!r})"


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


FetchPage = Callable[[Mapping[str, object]], Awaitable["AsyncCursorPage[Any]"]]


class AsyncCursorPage(Generic[T]):
    """One page of a cursor-paged list; ``async for`` on it walks the items of this page and every later one."""

    __slots__ = ("_fetch", "_params", "data", "first_id", "has_more", "last_id", "object")

    def __init__(self, body: CursorPageBody[T], *, params: Mapping[str, object], fetch: FetchPage) -> None:
        self.data = body.data
        self.has_more = body.has_more
        self.object = body.object
        self.first_id = body.first_id
        self.last_id = body.last_id
        self._params = params
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.has_more and bool(self.data)

    def next_page_params(self) -> dict[str, object] | None:
        if not self.has_next_page():
            return None
        last: _HasId = self.data[-1]  # type: ignore[assignment]
        return {**self._params, "after": last.id}

    async def get_next_page(self) -> AsyncCursorPage[T]:
        params = self.next_page_params()
        if params is None:
            raise RuntimeError("No more pages: check has_next_page() first.")
        page: AsyncCursorPage[T] = await self._fetch(params)
        return page

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[T]]:
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __repr__(self) -> str:
        return f"AsyncCursorPage(data={self.data!r}, has_more={self.has_more!r})"


class AsyncPaginator(Generic[T, PageT]):
    """What ``list()`` returns: ``await`` it for the first page, or ``async for`` over every item."""

    __slots__ = ("_fetch_first",)

    def __init__(self, fetch_first: Callable[[], Awaitable[PageT]]) -> None:
        self._fetch_first = fetch_first

    def __await__(self) -> Generator[Any, None, PageT]:
        return self._fetch_first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._fetch_first()
        async for item in page:
            yield item
