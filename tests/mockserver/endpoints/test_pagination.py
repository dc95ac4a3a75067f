"""Cursor pagination end to end: ``ListQuery`` parsing, and the official SDK's ``async for`` over every page.

What the server does, exactly: a page holds up to ``limit`` items and ``has_more`` is true only when another item
follows it. So walking ``total`` items costs ``ceil(total / limit)`` page requests, and one (empty) request when
there are none; never an extra empty page at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import openai
import pytest
from _helpers import sdk_client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockserver import MockServer, Prepopulate, ServerConfig
from mockserver.endpoints._fine_tuning_jobs import job_object
from mockserver.endpoints.batches import batch_object
from mockserver.endpoints.files import file_object
from mockserver.state.server_state import ServerState
from mockserver.wire.errors import APIErrorResponse
from mockserver.wire.list_query import ListQuery


def test_list_query_defaults() -> None:
    query = ListQuery.parse({}, default_limit=20, max_limit=100)
    assert query == ListQuery(after=None, limit=20, order="desc")
    assert ListQuery.parse({}, default_limit=5, max_limit=10, default_order="asc").order == "asc"


def test_list_query_reads_every_field() -> None:
    query = ListQuery.parse({"after": "x1", "limit": "7", "order": "asc"}, default_limit=20, max_limit=100)
    assert query == ListQuery(after="x1", limit=7, order="asc")


def test_list_query_ignores_order_where_it_is_fixed() -> None:
    query = ListQuery.parse({"order": "asc"}, default_limit=20, max_limit=100, orderable=False)
    assert query.order == "desc"
    assert ListQuery.parse({"order": "bogus"}, default_limit=20, max_limit=100, orderable=False).order == "desc"


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        ({"limit": "0"}, "limit", "invalid_value", "Invalid 'limit': 0 is less than the minimum of 1 - 'limit'"),
        (
            {"limit": "101"},
            "limit",
            "invalid_value",
            "Invalid 'limit': 101 is greater than the maximum of 100 - 'limit'",
        ),
        (
            {"limit": "many"},
            "limit",
            "invalid_type",
            "Invalid type for 'limit': expected an integer, but got a string instead.",
        ),
        ({"order": "up"}, "order", "invalid_value", "Invalid value: 'up'. Supported values are: 'asc', 'desc'."),
    ],
)
def test_list_query_errors_are_openai_shaped(params: dict[str, str], param: str, code: str, message: str) -> None:
    with pytest.raises(APIErrorResponse) as caught:
        ListQuery.parse(params, default_limit=20, max_limit=100)
    assert caught.value.status == 400
    assert caught.value.body() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def fill(state: ServerState, kind: str, total: int) -> list[str]:
    """Put ``total`` items of ``kind`` in the store, oldest first, and return their ids in that order."""
    state.reset()
    now = state.now()
    ids: list[str] = []
    for index in range(total):
        created = now - total + index
        if kind == "files":
            item = file_object(f"file-{index:05d}", size=1, created_at=created, filename="f", purpose="batch")
            state.files.add(item)
        elif kind == "jobs":
            item = job_object(
                f"ftjob-{index:05d}", created_at=created, model="gpt-4o-mini", training_file="file-x",
                hyperparameters={}, seed=index,
            )  # fmt: skip
            state.fine_tuning_jobs.add(item)
        else:
            item = batch_object(
                f"batch_{index:05d}", created_at=created, endpoint="/v1/embeddings", input_file_id="file-x", total=1
            )
            state.batches.add(item)
        ids.append(item["id"])
    return ids


PATHS = {"files": "/v1/files", "jobs": "/v1/fine_tuning/jobs", "batches": "/v1/batches"}


async def walk(client: openai.AsyncOpenAI, kind: str, limit: int, order: str) -> list[str]:
    if kind == "files":
        return [item.id async for item in client.files.list(limit=limit, order=order)]  # type: ignore[arg-type]
    if kind == "jobs":
        return [item.id async for item in client.fine_tuning.jobs.list(limit=limit)]
    return [item.id async for item in client.batches.list(limit=limit)]


# Each page is a real request (~5-20 ms on a busy box), so examples are few; the boundaries are always tried.
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(kind="files", total=0, limit=1, order="asc")
@example(kind="files", total=300, limit=100, order="desc")
@example(kind="files", total=40, limit=20, order="asc")
@example(kind="jobs", total=41, limit=20, order="desc")
@example(kind="batches", total=1, limit=1, order="desc")
@given(
    kind=st.sampled_from(["files", "jobs", "batches"]),
    total=st.integers(0, 300),
    limit=st.integers(1, 100),
    order=st.sampled_from(["asc", "desc"]),
)
async def test_async_for_yields_every_item_once_in_order_with_exact_page_requests(
    live_server: MockServer, transport: str, kind: str, total: int, limit: int, order: str
) -> None:
    created = fill(live_server.state, kind, total)
    expected = created if kind == "files" and order == "asc" else created[::-1]
    async with sdk_client(live_server, transport) as client:
        seen = await walk(client, kind, limit, order)
    assert seen == expected
    pages = live_server.journal_for(path=PATHS[kind], method="GET")
    assert len(pages) == max(1, math.ceil(total / limit))
    assert all(f"limit={limit}" in entry.query for entry in pages)


@pytest.fixture(scope="module")
def prepopulated() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=7, prepopulate=Prepopulate(fine_tuning_jobs=45))) as server:
        yield server


async def test_guide_pagination_example_walks_all_prepopulated_jobs(prepopulated: MockServer, transport: str) -> None:
    prepopulated.reset()
    async with sdk_client(prepopulated, transport) as client:
        all_jobs = []
        async for job in client.fine_tuning.jobs.list(limit=20):
            all_jobs.append(job)
    assert len(all_jobs) == 45
    assert len({job.id for job in all_jobs}) == 45
    created = [job.created_at for job in all_jobs]
    assert created == sorted(created, reverse=True)
    assert len(set(created)) == 45
    assert len(prepopulated.journal_for(path="/v1/fine_tuning/jobs", method="GET")) == 3


async def test_first_page_is_awaitable_and_links_to_the_next(prepopulated: MockServer, transport: str) -> None:
    prepopulated.reset()
    async with sdk_client(prepopulated, transport) as client:
        first = await client.fine_tuning.jobs.list(limit=20)
        assert len(first.data) == 20
        assert first.has_more is True
        assert first.has_next_page()
        second = await first.get_next_page()
        third = await second.get_next_page()
    assert len(second.data) == 20
    assert len(third.data) == 5
    assert third.has_more is False
    assert not third.has_next_page()
    assert {job.id for job in first.data}.isdisjoint(job.id for job in second.data)


async def test_breaking_out_early_stops_fetching(prepopulated: MockServer, transport: str) -> None:
    prepopulated.reset()
    async with sdk_client(prepopulated, transport) as client:
        taken = []
        async for job in client.fine_tuning.jobs.list(limit=10):
            taken.append(job.id)
            if len(taken) == 15:
                break
    assert len(taken) == 15
    assert len(prepopulated.journal_for(path="/v1/fine_tuning/jobs", method="GET")) == 2
