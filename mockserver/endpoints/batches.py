"""``/v1/batches``: create, list (newest first), retrieve, cancel.

The fake runs no batch work: a new batch stays ``validating``. Cancelling answers ``cancelling`` (as OpenAI does
while in-flight requests drain); the next time the batch is looked at (retrieve or list) it is ``cancelled``.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, invalid_value, not_found
from ..wire.fields import optional_choice, optional_object, required_str
from ..wire.json_codec import JSONDecodeError, loads
from ..wire.list_query import ListQuery
from ..wire.metadata import parse_metadata
from ..wire.replies import JSONReply
from .files import require_file

__all__ = ["ENDPOINTS", "batch_object", "routes"]

ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions")
COMPLETION_WINDOWS = ("24h",)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
WINDOW_SECONDS = 24 * 3600
CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})


def batch_object(
    ident: str,
    *,
    created_at: int,
    endpoint: str,
    input_file_id: str,
    total: int,
    status: str = "validating",
    metadata: dict[str, str] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "batch",
        "endpoint": endpoint,
        "model": model,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": "24h",
        "status": status,
        "output_file_id": None,
        "error_file_id": None,
        "created_at": created_at,
        "in_progress_at": None,
        "expires_at": created_at + WINDOW_SECONDS,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": total, "completed": 0, "failed": 0},
        "metadata": metadata,
    }


def _require_batch(state: ServerState, ident: str) -> dict[str, Any]:
    batch = state.batches.get(ident)
    if batch is None:
        raise not_found("batch", ident, param="batch_id")
    return batch


def _observe(state: ServerState, batch: dict[str, Any]) -> dict[str, Any]:
    """A batch as a reader sees it now: a ``cancelling`` batch has finished cancelling."""
    if batch["status"] == "cancelling":
        batch["status"] = "cancelled"
        batch["cancelled_at"] = state.now()
        state.batches.add(batch)  # kept as it now is (a shared store holds a copy)
    return batch


def _requests_in(content: bytes) -> tuple[int, str | None]:
    """How many request lines an input file holds, and the model of the first one (if it names one)."""
    lines = [line for line in content.splitlines() if line.strip()]
    model = None
    if lines:
        try:
            first = loads(lines[0])
        except JSONDecodeError:
            first = None
        body = first.get("body") if isinstance(first, dict) else None
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            model = body["model"]
    return len(lines), model


async def create_batch(call: Call) -> JSONReply:
    body = call.json_object()
    state = call.state
    input_file_id = required_str(body, "input_file_id")
    endpoint = required_str(body, "endpoint")
    optional_choice(body, "endpoint", ENDPOINTS)
    window = required_str(body, "completion_window")
    optional_choice(body, "completion_window", COMPLETION_WINDOWS)
    metadata = parse_metadata(body)
    optional_object(body, "output_expires_after")
    source = require_file(state, input_file_id, param="input_file_id")
    if source["purpose"] != "batch":
        raise invalid_value(
            "input_file_id",
            f"File {input_file_id} has purpose '{source['purpose']}'; a batch needs a file with purpose 'batch'.",
        )
    total, model = _requests_in(state.file_contents.get(input_file_id, b""))
    batch = batch_object(
        state.ids.hex("batch_", 32),
        created_at=state.now(),
        endpoint=endpoint,
        input_file_id=input_file_id,
        total=total,
        metadata=metadata,
        model=model,
    )
    batch["completion_window"] = window
    state.batches.add(batch)
    return JSONReply(batch)


async def list_batches(call: Call) -> JSONReply:
    query = ListQuery.parse(
        call.request.query_params, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, orderable=False
    )
    page = call.state.batches.page(after=query.after, limit=query.limit, order=query.order)
    for batch in page.data:
        _observe(call.state, batch)
    return JSONReply(page.body(first_last=True))


async def retrieve_batch(call: Call) -> JSONReply:
    return JSONReply(_observe(call.state, _require_batch(call.state, call.path_params["batch_id"])))


async def cancel_batch(call: Call) -> JSONReply:
    state = call.state
    batch = _require_batch(state, call.path_params["batch_id"])
    if batch["status"] == "cancelling":
        return JSONReply(batch)
    if batch["status"] not in CANCELLABLE:
        raise APIErrorResponse(
            400, f"Cannot cancel a batch with status '{batch['status']}'.", param=None, code="invalid_state"
        )
    batch["status"] = "cancelling"
    batch["cancelling_at"] = state.now()
    state.batches.add(batch)  # kept as it now is (a shared store holds a copy)
    return JSONReply(batch)


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/batches", Endpoint(create_batch), methods=["POST"]),
        Route("/v1/batches", Endpoint(list_batches, json_body=False), methods=["GET"]),
        Route("/v1/batches/{batch_id}", Endpoint(retrieve_batch, json_body=False), methods=["GET"]),
        Route("/v1/batches/{batch_id}/cancel", Endpoint(cancel_batch, json_body=False), methods=["POST"]),
    ]
