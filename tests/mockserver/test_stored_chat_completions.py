from __future__ import annotations

import httpx
import openai
import pytest
from _helpers import AUTH, TRANSPORTS, post, sdk_client, stream_chunks
from openai.types.chat import ChatCompletion

from mockserver import MockServer, Prepopulate, ServerConfig

MESSAGES = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello!"}]


async def _store(client: openai.AsyncOpenAI, count: int, **params: object) -> list[str]:
    ids = []
    for number in range(count):
        completion = await client.chat.completions.create(
            model=str(params.get("model", "gpt-4o")),
            messages=[{"role": "user", "content": f"Question {number}"}],
            store=True,
            metadata=params.get("metadata", {}),  # type: ignore[arg-type]
        )
        ids.append(completion.id)
    return ids


async def test_only_store_true_completions_are_kept(server: MockServer, client: openai.AsyncOpenAI) -> None:
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    stored = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, store=True)  # type: ignore[arg-type]
    assert [item["id"] for item in server.state.chat_completions] == [stored.id]


async def test_retrieve_gives_back_the_stored_completion(client: openai.AsyncOpenAI) -> None:
    created = await client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        store=True,
        metadata={"team": "blue"},
    )
    fetched = await client.chat.completions.retrieve(created.id)
    assert fetched.id == created.id
    assert fetched.choices == created.choices
    assert fetched.usage == created.usage
    assert fetched.metadata == {"team": "blue"}


async def test_list_walks_every_page_in_ascending_order_by_default(client: openai.AsyncOpenAI) -> None:
    ids = await _store(client, 5)
    first_page = await client.chat.completions.list(limit=2)
    assert [item.id for item in first_page.data] == ids[:2]
    assert first_page.has_more
    assert first_page.first_id == ids[0]
    assert first_page.last_id == ids[1]
    assert [item.id async for item in client.chat.completions.list(limit=2)] == ids
    assert [item.id async for item in client.chat.completions.list(order="desc", limit=3)] == ids[::-1]


async def test_list_filters_by_model_and_metadata(client: openai.AsyncOpenAI) -> None:
    blue = await _store(client, 2, metadata={"team": "blue"})
    red = await _store(client, 1, metadata={"team": "red"}, model="gpt-4o-mini")
    listed = [item.id async for item in client.chat.completions.list(metadata={"team": "blue"})]
    assert listed == blue
    listed = [item.id async for item in client.chat.completions.list(model="gpt-4o-mini")]
    assert listed == red
    assert [item.id async for item in client.chat.completions.list(model="gpt-4")] == []


async def test_update_replaces_metadata(client: openai.AsyncOpenAI) -> None:
    (ident,) = await _store(client, 1, metadata={"a": "1"})
    updated = await client.chat.completions.update(ident, metadata={"b": "2"})
    assert updated.metadata == {"b": "2"}
    assert (await client.chat.completions.retrieve(ident)).metadata == {"b": "2"}


async def test_delete_removes_the_completion_and_its_messages(server: MockServer, client: openai.AsyncOpenAI) -> None:
    (ident,) = await _store(client, 1)
    deleted = await client.chat.completions.delete(ident)
    assert deleted.id == ident
    assert deleted.deleted is True
    assert deleted.object == "chat.completion.deleted"
    assert ident not in server.state.chat_completion_messages
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.retrieve(ident)
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.delete(ident)


async def test_unknown_ids_are_404(client: openai.AsyncOpenAI) -> None:
    for call in (
        client.chat.completions.retrieve("chatcmpl-missing"),
        client.chat.completions.update("chatcmpl-missing", metadata={}),
    ):
        with pytest.raises(openai.NotFoundError):
            await call


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_messages_lists_the_input_messages_with_ids(server: MockServer, transport: str) -> None:
    # OpenAI returns each input message with its own role; the SDK's ChatCompletionStoreMessage type says
    # role is always "assistant", so strict response validation would reject real answers too.
    async with sdk_client(server, transport, strict=False, max_retries=0) as client:
        messages = [
            *MESSAGES,
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "And this picture?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
        ]
        created = await client.chat.completions.create(model="gpt-4o", messages=messages, store=True)  # type: ignore[arg-type]
        page = await client.chat.completions.messages.list(created.id, limit=2)
        assert [message.id for message in page.data] == [f"{created.id}-0", f"{created.id}-1"]
        assert page.has_more
        everything = [message async for message in client.chat.completions.messages.list(created.id, limit=2)]
    assert [message.role for message in everything] == ["system", "user", "user"]  # type: ignore[comparison-overlap]
    assert [message.content for message in everything] == ["Be kind.", "Hello!", "And this picture?"]
    assert everything[0].content_parts is None
    assert [part.type for part in everything[2].content_parts or []] == ["text", "image_url"]


def test_a_streamed_completion_is_stored_as_a_whole(server: MockServer) -> None:
    chunks = stream_chunks(server, "/chat/completions", {"model": "gpt-4o", "messages": MESSAGES, "store": True})
    stored = httpx.get(f"{server.base_url}/chat/completions/{chunks[0]['id']}", headers=AUTH).json()
    ChatCompletion.model_validate(stored, strict=True)
    content = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert stored["choices"][0]["message"]["content"] == content


def test_list_rejects_a_bad_limit_and_order(server: MockServer) -> None:
    for query in ("limit=0", "limit=101", "limit=x", "order=sideways"):
        response = httpx.get(f"{server.base_url}/chat/completions?{query}", headers=AUTH)
        assert response.status_code == 400, query
        assert response.json()["error"]["param"] in ("limit", "order")


def test_an_empty_list_has_null_first_and_last_ids(server: MockServer) -> None:
    body = httpx.get(f"{server.base_url}/chat/completions", headers=AUTH).json()
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_update_needs_metadata(server: MockServer) -> None:
    ident = post(server, "/chat/completions", {"model": "gpt-4o", "messages": MESSAGES, "store": True}).json()["id"]
    response = post(server, f"/chat/completions/{ident}", {})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "metadata"


async def test_prepopulated_completions_list_and_page_like_created_ones() -> None:
    config = ServerConfig(prepopulate=Prepopulate(chat_completions=25))
    with MockServer(config) as prepopulated:
        async with sdk_client(prepopulated, "httpx", max_retries=0) as client:
            created = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, store=True)  # type: ignore[arg-type]
            listed = [item async for item in client.chat.completions.list(limit=10)]
            tagged = [item async for item in client.chat.completions.list(metadata={"index": "3"})]
    assert len(listed) == 26
    assert listed[-1].id == created.id
    assert [item.created for item in listed] == sorted(item.created for item in listed)
    assert len(tagged) == 1
