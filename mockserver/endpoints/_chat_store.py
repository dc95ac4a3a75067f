"""Stored chat completions (``store: true``): list, retrieve, update metadata, delete, and their input messages."""

from __future__ import annotations

import copy
from typing import Any

from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..state.store import ResourceStore
from ..wire.errors import APIErrorResponse
from ..wire.fields import required
from ..wire.list_query import ListQuery
from ..wire.replies import JSONReply
from ._chat_reply import ChatReply
from ._chat_request import message_text
from ._generation_fields import metadata_field

__all__ = ["store_reply", "stored_routes"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def store_reply(state: ServerState, reply: ChatReply) -> None:
    """Keep the completion (with its metadata) and the input messages it answered."""
    state.chat_completions.add({**reply.body(), "metadata": dict(reply.request.metadata)})
    state.chat_completion_messages[reply.id] = [
        _stored_message(f"{reply.id}-{position}", message) for position, message in enumerate(reply.request.messages)
    ]


def _stored_message(ident: str, message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    stored: dict[str, Any] = {key: copy.deepcopy(value) for key, value in message.items() if key != "content"}
    stored["id"] = ident
    stored["content"] = message_text(content) if content is not None else None
    stored["refusal"] = None
    if isinstance(content, list):
        stored["content_parts"] = [
            copy.deepcopy(part)
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "image_url")
        ]
    else:
        stored["content_parts"] = None
    return stored


def _require(state: ServerState, ident: str) -> dict[str, Any]:
    item = state.chat_completions.get(ident)
    if item is None:
        raise APIErrorResponse(
            404, f"Chat completion with id '{ident}' not found.", param="completion_id", code="not_found"
        )
    return item


async def list_completions(call: Call) -> JSONReply:
    params = call.request.query_params
    query = ListQuery.parse(params, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, default_order="asc")
    model = params.get("model") or None
    wanted = {key[len("metadata[") : -1]: value for key, value in params.items() if key.startswith("metadata[")}

    def matches(item: dict[str, Any]) -> bool:
        if model is not None and item["model"] != model:
            return False
        metadata = item.get("metadata") or {}
        return all(metadata.get(key) == value for key, value in wanted.items())

    page = call.state.chat_completions.page(after=query.after, limit=query.limit, order=query.order, where=matches)
    return JSONReply(page.body(first_last=True))


async def retrieve_completion(call: Call) -> JSONReply:
    return JSONReply(_require(call.state, call.path_params["completion_id"]))


async def update_completion(call: Call) -> JSONReply:
    item = _require(call.state, call.path_params["completion_id"])
    body = call.json_object()
    required(body, "metadata")
    item["metadata"] = metadata_field(body)
    call.state.chat_completions.add(item)  # kept as it now is (a shared store holds a copy)
    return JSONReply(item)


async def delete_completion(call: Call) -> JSONReply:
    ident = call.path_params["completion_id"]
    _require(call.state, ident)
    call.state.chat_completions.delete(ident)
    call.state.chat_completion_messages.pop(ident, None)
    return JSONReply({"id": ident, "object": "chat.completion.deleted", "deleted": True})


async def list_messages(call: Call) -> JSONReply:
    ident = call.path_params["completion_id"]
    _require(call.state, ident)
    query = ListQuery.parse(
        call.request.query_params, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, default_order="asc"
    )
    messages = ResourceStore()
    for message in call.state.chat_completion_messages.get(ident, []):
        messages.add(message)
    page = messages.page(after=query.after, limit=query.limit, order=query.order)
    return JSONReply(page.body(first_last=True))


def stored_routes() -> list[BaseRoute]:
    one = "/v1/chat/completions/{completion_id}"
    return [
        Route("/v1/chat/completions", Endpoint(list_completions, json_body=False), methods=["GET"]),
        Route(one, Endpoint(retrieve_completion, json_body=False), methods=["GET"]),
        Route(one, Endpoint(update_completion), methods=["POST"]),
        Route(one, Endpoint(delete_completion, json_body=False), methods=["DELETE"]),
        Route(f"{one}/messages", Endpoint(list_messages, json_body=False), methods=["GET"]),
    ]
