"""``/v1/batches`` through the official SDK (both transports) and raw HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import Batch

from mockserver import MockServer, Prepopulate, ServerConfig

REQUESTS = b"".join(
    b'{"custom_id":"r%d","method":"POST","url":"/v1/chat/completions",'
    b'"body":{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}}\n' % i
    for i in range(3)
)


@pytest.fixture
async def input_file(sdk: openai.AsyncOpenAI) -> str:
    return (await sdk.files.create(file=("requests.jsonl", REQUESTS + b"\n\n"), purpose="batch")).id


async def test_create_counts_requests_and_reads_the_model(
    sdk: openai.AsyncOpenAI, input_file: str, server: MockServer
) -> None:
    batch = await sdk.batches.create(
        input_file_id=input_file,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"run": "nightly"},
    )
    assert batch.id.startswith("batch_")
    assert (batch.object, batch.status, batch.endpoint, batch.input_file_id) == (
        "batch",
        "validating",
        "/v1/chat/completions",
        input_file,
    )
    assert batch.completion_window == "24h"
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 0, 0)
    assert batch.model == "gpt-4o"
    assert batch.metadata == {"run": "nightly"}
    assert batch.expires_at == batch.created_at + 24 * 3600
    assert batch.created_at <= server.state.now()
    assert await sdk.batches.retrieve(batch.id) == batch


async def test_cancel_answers_cancelling_then_reads_cancelled(sdk: openai.AsyncOpenAI, input_file: str) -> None:
    batch = await sdk.batches.create(input_file_id=input_file, endpoint="/v1/embeddings", completion_window="24h")
    cancelling = await sdk.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at is not None
    assert cancelling.cancelled_at is None
    cancelled = await sdk.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.batches.cancel(batch.id)
    assert caught.value.body == {
        "message": "Cannot cancel a batch with status 'cancelled'.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_state",
    }


async def test_listing_also_finishes_a_cancellation(sdk: openai.AsyncOpenAI, input_file: str) -> None:
    batch = await sdk.batches.create(input_file_id=input_file, endpoint="/v1/responses", completion_window="24h")
    assert (await sdk.batches.cancel(batch.id)).status == "cancelling"
    assert (await sdk.batches.cancel(batch.id)).status == "cancelling"
    listed = [item async for item in sdk.batches.list()]
    assert [(item.id, item.status) for item in listed] == [(batch.id, "cancelled")]


async def test_list_is_newest_first_over_pages(sdk: openai.AsyncOpenAI, input_file: str) -> None:
    made = [
        (await sdk.batches.create(input_file_id=input_file, endpoint="/v1/completions", completion_window="24h")).id
        for _ in range(5)
    ]
    first = await sdk.batches.list(limit=2)
    assert [item.id for item in first.data] == made[::-1][:2]
    assert first.has_more
    assert [item.id async for item in sdk.batches.list(limit=2)] == made[::-1]


def test_list_body_has_first_and_last_ids(http: httpx.Client) -> None:
    upload = http.post("/files", files={"file": ("r.jsonl", REQUESTS)}, data={"purpose": "batch"}).json()["id"]
    body = {"input_file_id": upload, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    made = [http.post("/batches", json=body).json()["id"] for _ in range(3)]
    page = http.get("/batches", params={"limit": 2}).json()
    assert [item["id"] for item in page["data"]] == [made[2], made[1]]
    assert (page["first_id"], page["last_id"], page["has_more"]) == (made[2], made[1], True)
    last = http.get("/batches", params={"limit": 2, "after": made[1]}).json()
    assert (last["first_id"], last["last_id"], last["has_more"]) == (made[0], made[0], False)
    for item in page["data"] + last["data"]:
        Batch.model_validate(item)


async def test_unknown_batch_is_404(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.batches.retrieve("batch_nope")
    assert caught.value.body == {
        "message": "No batch found with id 'batch_nope'.",
        "type": "invalid_request_error",
        "param": "batch_id",
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        await sdk.batches.cancel("batch_nope")


async def test_unknown_input_file_is_404(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.batches.create(input_file_id="file-gone", endpoint="/v1/chat/completions", completion_window="24h")
    assert caught.value.body == {
        "message": "No such File object: file-gone",
        "type": "invalid_request_error",
        "param": "input_file_id",
        "code": None,
    }


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"input_file_id": None}, "input_file_id", "missing_required_parameter"),
        ({"endpoint": None}, "endpoint", "missing_required_parameter"),
        ({"completion_window": None}, "completion_window", "missing_required_parameter"),
        ({"endpoint": "/v1/models"}, "endpoint", "invalid_value"),
        ({"completion_window": "1h"}, "completion_window", "invalid_value"),
        ({"metadata": "tags"}, "metadata", "invalid_type"),
        ({"input_file_id": 7}, "input_file_id", "invalid_type"),
    ],
)
def test_invalid_create_bodies_are_400(http: httpx.Client, change: dict[str, Any], param: str, code: str) -> None:
    upload = http.post("/files", files={"file": ("r.jsonl", REQUESTS)}, data={"purpose": "batch"}).json()["id"]
    body = {"input_file_id": upload, "endpoint": "/v1/chat/completions", "completion_window": "24h", **change}
    response = http.post("/batches", json={key: value for key, value in body.items() if value is not None})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["code"] == code


def test_input_file_must_have_batch_purpose(http: httpx.Client) -> None:
    upload = http.post("/files", files={"file": ("r.jsonl", REQUESTS)}, data={"purpose": "fine-tune"}).json()["id"]
    body = {"input_file_id": upload, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    response = http.post("/batches", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input_file_id"


@pytest.mark.parametrize("limit", ["0", "101", "1.5"])
def test_limit_must_be_between_1_and_100(http: httpx.Client, limit: str) -> None:
    response = http.get("/batches", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_limit_100_is_accepted(http: httpx.Client) -> None:
    assert http.get("/batches", params={"limit": "100"}).json()["has_more"] is False


async def test_finished_prepopulated_batches_cannot_be_cancelled() -> None:
    with MockServer(ServerConfig(prepopulate=Prepopulate(batches=6))) as server:
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="sk-test", _strict_response_validation=True
        ) as client:
            batches = [item async for item in client.batches.list()]
            by_status = {item.status: item for item in batches}
            assert set(by_status) == {"completed", "in_progress", "failed", "cancelled", "expired", "validating"}
            for status in ("completed", "failed", "cancelled", "expired"):
                with pytest.raises(openai.BadRequestError):
                    await client.batches.cancel(by_status[status].id)
            assert (await client.batches.cancel(by_status["in_progress"].id)).status == "cancelling"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=50, deadline=None)
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "endpoint": st.sampled_from(["/v1/chat/completions", "/v1/embeddings", "/v1/nope"]) | json_values,
            "completion_window": st.sampled_from(["24h", "48h"]) | json_values,
            "metadata": st.dictionaries(st.text(max_size=70), st.text(max_size=600), max_size=17) | json_values,
            "output_expires_after": json_values,
        },
    ),
    input_file=st.sampled_from(["uploaded", "missing", "wrong purpose"]),
    content=st.binary(max_size=200),
)
def test_any_create_body_is_a_batch_or_an_openai_shaped_4xx(
    shared_http: httpx.Client, fields: dict[str, Any], input_file: str, content: bytes
) -> None:
    purpose = "fine-tune" if input_file == "wrong purpose" else "batch"
    upload = shared_http.post("/files", files={"file": ("in.jsonl", content)}, data={"purpose": purpose}).json()
    body = {"input_file_id": "file-missing" if input_file == "missing" else upload["id"], **fields}
    response = shared_http.post("/batches", json=body)
    if response.status_code == 200:
        batch = Batch.model_validate(response.json())
        assert batch.request_counts is not None
        assert batch.request_counts.total == len([line for line in content.splitlines() if line.strip()])
    else:
        assert response.status_code in (400, 404), response.text
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
