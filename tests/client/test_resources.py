"""Every resource method against the real mock server: the right route, the body passed through, typed answers."""

from __future__ import annotations

import io
from pathlib import Path

import msgspec
import pytest
from client_fakes import fake_client, json_response

from client import AsyncOpenAI, AsyncStream, NotFoundError
from client.types import Batch, Completion, FileObject, FineTuningJob, Response, ResponseStreamEvent
from mockserver import MockServer

MESSAGES = [{"role": "user", "content": "hi"}]
BATCH_LINE = (
    b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", '
    b'"body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}}\n'
)


@pytest.fixture
async def api(server: MockServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


async def test_responses_create_stream_retrieve_delete(api: AsyncOpenAI) -> None:
    async with api:
        response = await api.responses.create(model="gpt-4o", input="Say hi", instructions="Be brief")
        assert isinstance(response, Response)
        assert response.status == "completed"
        assert response.output_text
        assert response.instructions == "Be brief"
        again = await api.responses.retrieve(response.id)
        assert again.output_text == response.output_text
        stream = await api.responses.create(model="gpt-4o", input="Say hi", stream=True)
        assert isinstance(stream, AsyncStream)
        events: list[ResponseStreamEvent] = [event async for event in stream]
        deleted = await api.responses.delete(response.id)
        with pytest.raises(NotFoundError):
            await api.responses.retrieve(response.id)
    assert deleted.deleted
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    final = events[-1].response
    assert final is not None
    assert "".join(event.delta or "" for event in events if event.type == "response.output_text.delta") == (
        final.output_text
    )


async def test_chat_tool_calls_round_trip(api: AsyncOpenAI) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    async with api:
        completion = await api.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, tools=tools, tool_choice="required"
        )
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.name == "get_weather"
    assert isinstance(msgspec.json.decode(message.tool_calls[0].function.arguments), dict)


async def test_legacy_completions(api: AsyncOpenAI) -> None:
    async with api:
        completion = await api.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once", max_tokens=5)
        stream = await api.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once", stream=True)
        pieces = [chunk.choices[0].text async for chunk in stream if chunk.choices]
    assert isinstance(completion, Completion)
    assert completion.choices[0].text
    assert all(isinstance(piece, str) for piece in pieces)
    assert "".join(pieces)


async def test_files_in_every_form(api: AsyncOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "from_path.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    handle = io.BytesIO(b'{"b": 2}\n')
    handle.name = "from_handle.jsonl"
    async with api:
        uploads = [
            await api.files.create(file=path, purpose="fine-tune"),
            await api.files.create(file=handle, purpose="fine-tune"),
            await api.files.create(file=("named.jsonl", b'{"c": 3}\n', "application/jsonl"), purpose="batch"),
        ]
        contents = [(await api.files.content(upload.id)).content for upload in uploads]
        retrieved = await api.files.retrieve(uploads[0].id)
        deleted = await api.files.delete(uploads[0].id)
        with pytest.raises(NotFoundError):
            await api.files.retrieve(uploads[0].id)
    assert all(isinstance(upload, FileObject) for upload in uploads)
    assert [upload.filename for upload in uploads] == ["from_path.jsonl", "from_handle.jsonl", "named.jsonl"]
    assert contents == [b'{"a": 1}\n', b'{"b": 2}\n', b'{"c": 3}\n']
    assert uploads[2].purpose == "batch"
    assert retrieved.bytes == 9
    assert deleted.deleted


async def test_fine_tuning_jobs(api: AsyncOpenAI) -> None:
    async with api:
        training = await api.files.create(file=("t.jsonl", b'{"messages": []}\n'), purpose="fine-tune")
        job = await api.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training.id, seed=42)
        listed = [item.id async for item in api.fine_tuning.jobs.list()]
        cancelled = await api.fine_tuning.jobs.cancel(job.id)
        retrieved = await api.fine_tuning.jobs.retrieve(job.id)
        events = [event async for event in api.fine_tuning.jobs.list_events(job.id, limit=1)]
    assert isinstance(job, FineTuningJob)
    assert job.training_file == training.id
    assert job.seed == 42
    assert job.id in listed
    assert cancelled.status == "cancelled"
    assert retrieved.status == "cancelled"
    assert events
    assert all(event.object == "fine_tuning.job.event" for event in events)


async def test_batches(api: AsyncOpenAI) -> None:
    async with api:
        source = await api.files.create(file=("b.jsonl", BATCH_LINE), purpose="batch")
        batch = await api.batches.create(
            completion_window="24h", endpoint="/v1/chat/completions", input_file_id=source.id, metadata={"k": "v"}
        )
        retrieved = await api.batches.retrieve(batch.id)
        cancelled = await api.batches.cancel(batch.id)
        listed = [item.id async for item in api.batches.list(limit=1)]
    assert isinstance(batch, Batch)
    assert batch.input_file_id == source.id
    assert batch.metadata == {"k": "v"}
    assert retrieved.id == batch.id
    assert cancelled.status in {"cancelling", "cancelled"}
    assert listed == [batch.id]


async def test_stored_chat_completions(api: AsyncOpenAI) -> None:
    async with api:
        created = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, store=True, metadata={"t": "1"})
        retrieved = await api.chat.completions.retrieve(created.id)
        listed = [item.id async for item in api.chat.completions.list(metadata={"t": "1"})]
        deleted = await api.chat.completions.delete(created.id)
    assert retrieved.choices[0].message.content == created.choices[0].message.content
    assert listed == [created.id]
    assert deleted.deleted


async def test_path_ids_are_escaped() -> None:
    model = {"id": "ft:gpt-4o:org/x", "object": "model", "created": 1, "owned_by": "me"}
    client, transport, _ = fake_client(json_response(model))
    async with client:
        await client.models.retrieve("ft:gpt-4o:org/x")
    assert transport.requests[0].url.endswith("/models/ft%3Agpt-4o%3Aorg%2Fx")
    with pytest.raises(ValueError, match="non-empty"):
        await client.files.retrieve("")
