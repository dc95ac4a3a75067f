"""Cursor pagination: awaiting the first page, walking every item across pages, stopping when told."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_fakes import fake_client, json_response

from client import AsyncCursorPage, AsyncOpenAI, AsyncPage
from client.types.fine_tuning import FineTuningJob
from mockserver import MockServer, Prepopulate, ServerConfig


@pytest.fixture(scope="module")
def jobs_server() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=3, prepopulate=Prepopulate(fine_tuning_jobs=45))) as server:
        yield server


def _page(ids: list[str], has_more: bool) -> dict[str, object]:
    return {"object": "list", "data": [{"id": i, "object": "fine_tuning.job"} for i in ids], "has_more": has_more}


async def test_pages_follow_the_cursor(jobs_server: MockServer) -> None:
    async with AsyncOpenAI(base_url=jobs_server.base_url, api_key="sk-test") as api:
        first = await api.fine_tuning.jobs.list(limit=20)
        assert isinstance(first, AsyncCursorPage)
        assert len(first.data) == 20
        assert all(isinstance(job, FineTuningJob) for job in first.data)
        assert first.has_more
        assert first.has_next_page()
        second = await first.get_next_page()
        third = await second.get_next_page()
        assert len(second.data) == 20
        assert len(third.data) == 5
        assert not third.has_next_page()
        with pytest.raises(RuntimeError, match="No more pages"):
            await third.get_next_page()
        everything = [job.id async for job in api.fine_tuning.jobs.list(limit=20)]
        from_second = [job.id async for job in second]
    paged = [job.id for page in (first, second, third) for job in page.data]
    assert everything == paged
    assert len(set(everything)) == 45
    assert from_second == paged[20:]


async def test_next_page_keeps_the_original_parameters() -> None:
    replies = [json_response(_page(["a", "b"], True)), json_response(_page(["c"], False))]
    api, transport, _ = fake_client(*replies)
    async with api:
        ids = [job.id async for job in api.fine_tuning.jobs.list(limit=2, extra_query={"x": "1"})]
    assert ids == ["a", "b", "c"]
    assert transport.requests[0].url.endswith("/fine_tuning/jobs?limit=2&x=1")
    assert transport.requests[1].url.endswith("/fine_tuning/jobs?limit=2&after=b&x=1")


async def test_breaking_out_stops_fetching() -> None:
    replies = [json_response(_page(["a", "b"], True)), json_response(_page(["c", "d"], True))]
    api, transport, _ = fake_client(*replies)
    async with api:
        seen = []
        async for job in api.fine_tuning.jobs.list():
            seen.append(job.id)
            if job.id == "c":
                break
    assert seen == ["a", "b", "c"]
    assert len(transport.requests) == 2


async def test_empty_page_ends_even_if_has_more() -> None:
    api, transport, _ = fake_client(json_response(_page([], True)), json_response(_page([], True)))
    async with api:
        items = [job async for job in api.fine_tuning.jobs.list()]
        page = await api.fine_tuning.jobs.list()
    assert items == []
    assert not page.has_next_page()
    assert len(transport.requests) == 2


async def test_models_list_is_one_page(server: MockServer) -> None:
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        page = await api.models.list()
        ids = [model.id async for model in api.models.list()]
    assert isinstance(page, AsyncPage)
    assert not page.has_next_page()
    assert ids == [model.id for model in page.data]
    assert "gpt-4o" in ids


async def test_other_lists_page_too(server: MockServer) -> None:
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as api:
        for index in range(3):
            await api.files.create(file=(f"f{index}.jsonl", b"{}\n"), purpose="fine-tune")
        files = [f.filename async for f in api.files.list(limit=2)]
        for _ in range(3):
            await api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], store=True)
        stored = [c.id async for c in api.chat.completions.list(limit=2)]
    assert sorted(files) == ["f0.jsonl", "f1.jsonl", "f2.jsonl"]
    assert len(set(stored)) == 3
