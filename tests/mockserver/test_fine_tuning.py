"""``/v1/fine_tuning/jobs`` through the official SDK (both transports) and raw HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent

from mockserver import MockServer

JSONL = b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'


@pytest.fixture
async def training_file(sdk: openai.AsyncOpenAI) -> str:
    return (await sdk.files.create(file=("train.jsonl", JSONL), purpose="fine-tune")).id


def upload(http: httpx.Client, purpose: str = "fine-tune") -> str:
    response = http.post("/files", files={"file": ("t.jsonl", JSONL)}, data={"purpose": purpose})
    return str(response.json()["id"])


async def test_create_returns_a_validating_job(sdk: openai.AsyncOpenAI, training_file: str, server: MockServer) -> None:
    job = await sdk.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=training_file,
        suffix="custom",
        seed=42,
        metadata={"team": "search"},
        hyperparameters={"n_epochs": 2},
    )
    assert job.id.startswith("ftjob-")
    assert (job.object, job.status, job.model, job.training_file) == (
        "fine_tuning.job",
        "validating_files",
        "gpt-4o-mini-2024-07-18",
        training_file,
    )
    assert job.seed == 42
    assert job.metadata == {"team": "search"}
    assert job.hyperparameters.n_epochs == 2
    assert job.hyperparameters.batch_size == "auto"
    assert job.method is not None
    assert job.method.type == "supervised"
    assert job.fine_tuned_model is None
    assert job.finished_at is None
    assert job.validation_file is None
    assert job.created_at <= server.state.now()


async def test_method_hyperparameters_are_reported(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(
        model="gpt-4o-mini",
        training_file=training_file,
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 4}}},
    )
    assert job.method is not None
    assert job.method.type == "dpo"
    assert job.hyperparameters.n_epochs == 4


async def test_retrieving_walks_the_lifecycle_to_success(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file, suffix="mine")
    statuses = [(await sdk.fine_tuning.jobs.retrieve(job.id)).status for _ in range(4)]
    assert statuses == ["queued", "running", "succeeded", "succeeded"]
    done = await sdk.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model is not None
    assert done.fine_tuned_model.startswith("ft:gpt-4o-mini:mockserver:mine:")
    assert done.finished_at is not None
    assert done.trained_tokens is not None
    assert done.trained_tokens > 0
    assert done.hyperparameters.n_epochs == 3
    assert len(done.result_files) == 1
    results = await sdk.files.retrieve(done.result_files[0])
    assert results.purpose == "fine-tune-results"
    assert (await sdk.files.content(results.id)).content.startswith(b"step,train_loss\n")


async def test_events_are_recorded_newest_first_and_paginate(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    for _ in range(3):
        await sdk.fine_tuning.jobs.retrieve(job.id)
    events = [event async for event in sdk.fine_tuning.jobs.list_events(job.id, limit=2)]
    messages = [event.message for event in events]
    assert messages[0] == "The job has successfully completed"
    assert messages[-2:] == [f"Validating training file: {training_file}", f"Created fine-tuning job: {job.id}"]
    assert len({event.id for event in events}) == len(events) == 9
    metrics = [event for event in events if event.type == "metrics"]
    assert [event.data for event in metrics][-1] == {"step": 1, "train_loss": 0.5, "total_steps": 3}
    first = await sdk.fine_tuning.jobs.list_events(job.id, limit=3)
    assert [event.id for event in first.data] == [event.id for event in events[:3]]
    assert first.has_more


async def test_list_is_newest_first_and_filters_by_metadata(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    made = [
        (
            await sdk.fine_tuning.jobs.create(
                model="gpt-4o-mini", training_file=training_file, metadata={"parity": "even" if i % 2 == 0 else "odd"}
            )
        ).id
        for i in range(5)
    ]
    assert [job.id async for job in sdk.fine_tuning.jobs.list(limit=2)] == made[::-1]
    evens = [job.id async for job in sdk.fine_tuning.jobs.list(limit=1, metadata={"parity": "even"})]
    assert evens == [made[4], made[2], made[0]]
    page = await sdk.fine_tuning.jobs.list()
    assert len(page.data) == 5
    assert page.has_more is False


async def test_cancel_then_cancelling_again_is_400(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    cancelled = await sdk.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled"
    assert (await sdk.fine_tuning.jobs.retrieve(job.id)).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        await sdk.fine_tuning.jobs.cancel(job.id)


async def test_cancelling_a_finished_job_is_400(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    for _ in range(3):
        await sdk.fine_tuning.jobs.retrieve(job.id)
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.fine_tuning.jobs.cancel(job.id)
    assert caught.value.body == {
        "message": f"Job {job.id} has already succeeded and cannot be cancelled.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_unknown_job_is_404_everywhere(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.fine_tuning.jobs.retrieve("ftjob-nope")
    assert caught.value.body == {
        "message": "No fine-tuning job found with id 'ftjob-nope'.",
        "type": "invalid_request_error",
        "param": "fine_tuning_job_id",
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        await sdk.fine_tuning.jobs.cancel("ftjob-nope")
    with pytest.raises(openai.NotFoundError):
        await sdk.fine_tuning.jobs.list_events("ftjob-nope")
    with pytest.raises(openai.NotFoundError):
        await sdk.fine_tuning.jobs.checkpoints.list("ftjob-nope")


async def test_checkpoints_list_is_empty(sdk: openai.AsyncOpenAI, training_file: str) -> None:
    job = await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    page = await sdk.fine_tuning.jobs.checkpoints.list(job.id)
    assert page.data == []
    assert page.has_more is False


async def test_unknown_training_file_is_400_invalid_training_file(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-missing")
    assert caught.value.body == {
        "message": "invalid training_file: file-missing",
        "type": "invalid_request_error",
        "param": "training_file",
        "code": None,
    }


def test_unknown_validation_file_is_400(http: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "training_file": upload(http), "validation_file": "file-gone"}
    response = http.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "validation_file"


def test_training_file_must_have_fine_tune_purpose(http: httpx.Client) -> None:
    response = http.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": upload(http, "batch")})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "training_file"


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"model": None}, "model", "missing_required_parameter"),
        ({"training_file": None}, "training_file", "missing_required_parameter"),
        ({"model": 3}, "model", "invalid_type"),
        ({"model": "not-a-model"}, "model", "model_not_available"),
        ({"suffix": "x" * 65}, "suffix", "invalid_value"),
        ({"seed": "seven"}, "seed", "invalid_type"),
        ({"metadata": {"k": 1}}, "metadata.k", "invalid_type"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "invalid_value"),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "invalid_value"),
        ({"hyperparameters": {"batch_size": "big"}}, "hyperparameters.batch_size", "invalid_type"),
        ({"hyperparameters": {"learning_rate_multiplier": 0}}, "hyperparameters.learning_rate_multiplier", None),
        ({"method": {"type": "magic"}}, "method.type", "invalid_value"),
    ],
)
def test_invalid_create_bodies_are_400(http: httpx.Client, change: dict[str, Any], param: str, code: str) -> None:
    body = {"model": "gpt-4o-mini", "training_file": upload(http), **change}
    response = http.post("/fine_tuning/jobs", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert error["type"] == "invalid_request_error"


def test_cancel_needs_no_body_and_bodies_validate(http: httpx.Client) -> None:
    job = http.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": upload(http)}).json()
    FineTuningJob.model_validate(job)
    cancelled = http.post(f"/fine_tuning/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert FineTuningJob.model_validate(cancelled.json()).status == "cancelled"
    events = http.get(f"/fine_tuning/jobs/{job['id']}/events").json()
    assert set(events) == {"object", "data", "has_more"}
    assert next(FineTuningJobEvent.model_validate(e).message for e in events["data"]) == "Fine-tuning job cancelled"


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_bad_limits_are_400(http: httpx.Client, limit: str) -> None:
    response = http.get("/fine_tuning/jobs", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_integrations_are_checked_and_reported(http: httpx.Client) -> None:
    wandb = {"type": "wandb", "wandb": {"project": "p", "tags": ["a"]}}
    body = {"model": "gpt-4o-mini", "training_file": upload(http), "integrations": [wandb]}
    job = http.post("/fine_tuning/jobs", json=body).json()
    integration = FineTuningJob.model_validate(job).integrations
    assert integration is not None
    assert (integration[0].wandb.project, integration[0].wandb.tags) == ("p", ["a"])
    bad = http.post("/fine_tuning/jobs", json={**body, "integrations": [{"type": "slack"}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "integrations[0].type"


def test_reinforcement_needs_a_grader(http: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "training_file": upload(http), "method": {"type": "reinforcement"}}
    response = http.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "method.reinforcement.grader"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(-2, 20, allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
hyperparameter_values = st.one_of(
    st.just("auto"), st.integers(-1, 300), st.floats(-1, 20, allow_nan=False), json_values
)


def hyperparameters_of(*names: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(names), hyperparameter_values)


def method_settings(*names: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={"hyperparameters": hyperparameters_of(*names)})


create_fields = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["gpt-4o-mini", "gpt-4o-mini-2024-07-18", "ft:gpt-4o:x::y", "nope"]) | json_values,
        "suffix": st.text(max_size=70) | json_values,
        "seed": st.integers(-3, 2**31 + 3) | json_values,
        "metadata": st.dictionaries(st.text(max_size=70), st.text(max_size=10) | json_values, max_size=18)
        | json_values,
        "hyperparameters": hyperparameters_of("batch_size", "learning_rate_multiplier", "n_epochs") | json_values,
        "method": st.fixed_dictionaries(
            {"type": st.sampled_from(["supervised", "dpo", "reinforcement", "other"])},
            optional={"supervised": method_settings("n_epochs"), "dpo": method_settings("beta", "batch_size")},
        )
        | json_values,
        "integrations": st.lists(
            st.fixed_dictionaries({"type": st.just("wandb"), "wandb": st.fixed_dictionaries({"project": st.text()})})
            | json_values,
            max_size=2,
        )
        | json_values,
        "validation_file": st.just("file-unknown") | json_values,
    },
)


@settings(max_examples=60, deadline=None)
@given(fields=create_fields, drop_training_file=st.booleans())
def test_any_create_body_is_a_job_or_an_openai_shaped_4xx(
    shared_http: httpx.Client, fields: dict[str, Any], drop_training_file: bool
) -> None:
    body = {"model": "gpt-4o-mini", **fields}
    if not drop_training_file:
        body["training_file"] = upload(shared_http)
    response = shared_http.post("/fine_tuning/jobs", json=body)
    if response.status_code == 200:
        job = FineTuningJob.model_validate(response.json())
        assert job.status == "validating_files"
    else:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
