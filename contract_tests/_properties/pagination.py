"""Pagination: ``async for`` over ``files.list(limit=n)`` yields every item exactly once, in the server's order,
for any total and page size, fetching only the pages it needs; an early ``break`` stops fetching."""

from __future__ import annotations

import math
from typing import Any

from mockserver import MockServer
from mockserver.endpoints.files import file_object

from .._property import Env, GivenProperty, Violation
from .._schedules import scenario_text
from .._session import open_session, raw_http
from .._strategies import PageCase, page_cases
from .._targets import API_KEY

__all__ = ["PAGINATION"]

FILES_PATH = "/v1/files"


def _add_files(server: MockServer, count: int) -> None:
    """``count`` files, straight into the server's store (uploading each one would dominate the check's time);
    called between requests, while the server is idle."""
    state = server.state
    now = state.now()
    for index in range(count):
        ident = state.ids.new("file-", 22)
        item = file_object(ident, size=3, created_at=now, filename=f"item-{index}.jsonl", purpose="fine-tune")
        state.files.add(item)
        state.file_contents[ident] = b"{}\n"


async def _listing(base_url: str) -> list[str]:
    """Every file id, in the server's order, in one request."""
    async with raw_http(headers={"authorization": f"Bearer {API_KEY}"}) as http:
        response = await http.get(f"{base_url}/files", params={"limit": 10_000})
    return [item["id"] for item in response.json()["data"]]


async def check_pagination(env: Env, case: PageCase) -> None:
    async with open_session(env) as session:
        _add_files(session.server, case.total)
        expected = await _listing(session.server.base_url)
        before = len(session.server.journal_for(FILES_PATH, "GET"))
        seen: list[str] = []
        iterator: Any = aiter(session.client.files.list(limit=case.page_size))
        try:
            while case.break_after is None or len(seen) < case.break_after:
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    break
                seen.append(item.id)
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
        fetched = len(session.server.journal_for(FILES_PATH, "GET")) - before
    wanted = expected if case.break_after is None else expected[: case.break_after]
    if seen != wanted:
        missing = [ident for ident in wanted if ident not in seen]
        repeated = sorted({ident for ident in seen if seen.count(ident) > 1})
        raise Violation(
            f"iterated {len(seen)} items, expected {len(wanted)} in order; missing {missing[:5]}, repeated"
            f" {repeated[:5]} (total {case.total}, page size {case.page_size})"
        )
    pages = max(1, math.ceil(len(wanted) / case.page_size))
    if fetched != pages:
        raise Violation(
            f"fetched {fetched} page(s) to iterate {len(wanted)} item(s) {case.page_size} per page; expected {pages}"
        )


def _replay(case: PageCase) -> str:
    comment = f"# upload {case.total} files, then iterate files.list(limit={case.page_size})"
    if case.break_after is not None:
        comment += f", break after {case.break_after}"
    return scenario_text([]) + comment + "\n"


#: the landmarks: several pages and a partial one, a break on the second page, exactly one full page, no items
LANDMARKS = (
    PageCase(25, 10, None),
    PageCase(25, 10, 15),
    PageCase(10, 10, None),
    PageCase(0, 5, None),
)

PAGINATION = (
    GivenProperty(
        name="pagination.every_item_once",
        summary="async for yields every item once, in order, and stops fetching when the caller stops",
        strategy=page_cases(),
        check=check_pagination,
        replay=_replay,
        examples=12,
        landmarks=LANDMARKS,
    ),
)
