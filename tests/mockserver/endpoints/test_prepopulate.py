"""Prepopulated stores: counts, determinism, stable creation order, and bodies the SDK types accept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _helpers import sdk_client
from openai.types import Batch, FileObject
from openai.types.chat import ChatCompletion
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent

from mockserver import MockServer, Prepopulate, ServerConfig
from mockserver.endpoints.prepopulate import prepopulate
from mockserver.state.server_state import ServerState
from mockserver.state.store import ResourceStore

FIXED_TIME = 1_750_000_000.0


def state_for(seed: int = 3, **counts: int) -> ServerState:
    return ServerState(
        ServerConfig(seed=seed, prepopulate=Prepopulate(**counts)), clock=lambda: FIXED_TIME, prepopulate=prepopulate
    )


def everything(state: ServerState) -> dict[str, Any]:
    return {
        "files": list(state.files),
        "contents": dict(state.file_contents),
        "jobs": list(state.fine_tuning_jobs),
        "events": {key: list(store) for key, store in state.fine_tuning_events.items()},
        "batches": list(state.batches),
        "chat": list(state.chat_completions),
        "messages": dict(state.chat_completion_messages),
    }


COUNTS = {"files": 13, "fine_tuning_jobs": 14, "batches": 15, "chat_completions": 16}


def test_nothing_is_prepopulated_by_default() -> None:
    state = state_for()
    assert (len(state.files), len(state.fine_tuning_jobs), len(state.batches), len(state.chat_completions)) == (
        0,
        0,
        0,
        0,
    )


def test_counts_match_the_config() -> None:
    state = state_for(**COUNTS)
    assert len(state.files) == len(state.file_contents) == 13
    assert len(state.fine_tuning_jobs) == len(state.fine_tuning_events) == 14
    assert len(state.batches) == 15
    assert len(state.chat_completions) == len(state.chat_completion_messages) == 16


def test_same_seed_same_items_and_reset_restores_them() -> None:
    first = state_for(**COUNTS)
    snapshot = everything(first)
    assert everything(state_for(**COUNTS)) == snapshot
    first.files.clear()
    first.reset()
    assert everything(first) == snapshot


def test_a_different_seed_gives_different_ids() -> None:
    ids_a = {item["id"] for item in state_for(seed=1, files=5).files}
    ids_b = {item["id"] for item in state_for(seed=2, files=5).files}
    assert ids_a.isdisjoint(ids_b)


def test_run_time_ids_stay_deterministic_after_prepopulating() -> None:
    assert state_for(files=50).ids.new("x-", 8) == state_for(files=50).ids.new("x-", 8)


@pytest.mark.parametrize(
    ("store", "field"),
    [
        ("files", "created_at"),
        ("fine_tuning_jobs", "created_at"),
        ("batches", "created_at"),
        ("chat_completions", "created"),
    ],
)
def test_creation_times_rise_strictly_in_store_order_and_precede_now(store: str, field: str) -> None:
    state = state_for(**COUNTS)
    times = [item[field] for item in getattr(state, store)]
    assert times == sorted(set(times))
    assert times[-1] < FIXED_TIME


def test_bodies_validate_against_the_sdk_types() -> None:
    state = state_for(**COUNTS)
    for item in state.files:
        FileObject.model_validate(item)
        assert item["bytes"] == len(state.file_contents[item["id"]])
    for item in state.fine_tuning_jobs:
        FineTuningJob.model_validate(item)
        for event in state.fine_tuning_events[item["id"]]:
            FineTuningJobEvent.model_validate(event)
    for item in state.batches:
        Batch.model_validate(item)
    for item in state.chat_completions:
        assert ChatCompletion.model_validate(item).choices[0].message.content


def test_references_point_at_prepopulated_files_of_the_right_purpose() -> None:
    state = state_for(**COUNTS)
    for job in state.fine_tuning_jobs:
        assert state.files.get(job["training_file"])["purpose"] == "fine-tune"  # type: ignore[index]
    for batch in state.batches:
        assert state.files.get(batch["input_file_id"])["purpose"] == "batch"  # type: ignore[index]


def test_statuses_cover_the_lifecycle() -> None:
    state = state_for(fine_tuning_jobs=12, batches=12)
    assert {job["status"] for job in state.fine_tuning_jobs} == {
        "succeeded",
        "running",
        "queued",
        "failed",
        "cancelled",
        "validating_files",
    }
    assert {batch["status"] for batch in state.batches} == {
        "completed",
        "in_progress",
        "failed",
        "cancelled",
        "expired",
        "validating",
    }


def test_large_counts_fill_every_store() -> None:
    state = state_for(files=3000, fine_tuning_jobs=3000, batches=3000, chat_completions=3000)
    assert len({item["id"] for item in state.files}) == 3000
    assert len({item["id"] for item in state.fine_tuning_jobs}) == 3000
    assert isinstance(state.fine_tuning_events[next(iter(state.fine_tuning_jobs))["id"]], ResourceStore)


@pytest.fixture(scope="module")
def prepopulated() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=5, prepopulate=Prepopulate(**COUNTS))) as server:
        yield server


async def test_the_sdk_reads_every_prepopulated_kind(prepopulated: MockServer, transport: str) -> None:
    prepopulated.reset()
    async with sdk_client(prepopulated, transport) as client:
        files = [item async for item in client.files.list(limit=5)]
        jobs = [item async for item in client.fine_tuning.jobs.list(limit=5)]
        batches = [item async for item in client.batches.list(limit=5)]
        events = [event async for event in client.fine_tuning.jobs.list_events(jobs[0].id)]
        content = await client.files.content(files[0].id)
    assert (len(files), len(jobs), len(batches)) == (13, 14, 15)
    assert [job.id for job in jobs] == [job["id"] for job in prepopulated.state.fine_tuning_jobs][::-1]
    assert events
    assert content.content == prepopulated.state.file_contents[files[0].id]
