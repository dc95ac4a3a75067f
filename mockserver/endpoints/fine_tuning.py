"""``/v1/fine_tuning/jobs``: create, list (newest first, metadata filter), retrieve, cancel, events, checkpoints.

Retrieving a job moves it one step along its lifecycle (see ``_fine_tuning_jobs``). Pause/resume are not served:
the SDK's job type has no ``paused`` status to report.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..state.server_state import ServerState
from ..state.store import Page
from ..wire.errors import APIErrorResponse, not_found
from ..wire.list_query import ListQuery
from ..wire.metadata import matches_metadata, metadata_filter
from ..wire.replies import JSONReply
from ._fine_tuning_jobs import TERMINAL_STATUSES, add_event, advance, job_object, new_job_id
from ._fine_tuning_request import parse_job_request

__all__ = ["routes"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _require_job(state: ServerState, ident: str) -> dict[str, Any]:
    job = state.fine_tuning_jobs.get(ident)
    if job is None:
        raise not_found("fine-tuning job", ident, param="fine_tuning_job_id")
    return job


async def create_job(call: Call) -> JSONReply:
    state = call.state
    request = parse_job_request(call.json_object(), state)
    ident = new_job_id(state)
    job = job_object(
        ident,
        created_at=state.now(),
        model=request.model,
        training_file=request.training_file,
        validation_file=request.validation_file,
        hyperparameters=request.hyperparameters,
        method=request.method,
        seed=request.seed if request.seed is not None else int(state.ids.token(9, "123456789")),
        suffix=request.suffix,
        metadata=request.metadata,
        integrations=request.integrations,
    )
    state.fine_tuning_jobs.add(job)
    add_event(state, ident, f"Created fine-tuning job: {ident}")
    add_event(state, ident, f"Validating training file: {request.training_file}")
    return JSONReply(job)


async def list_jobs(call: Call) -> JSONReply:
    params = call.request.query_params
    query = ListQuery.parse(params, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, orderable=False)
    wanted = metadata_filter(params)
    page = call.state.fine_tuning_jobs.page(
        after=query.after,
        limit=query.limit,
        order=query.order,
        where=(lambda job: matches_metadata(job, wanted)) if wanted else None,
    )
    return JSONReply(page.body(first_last=False))


async def retrieve_job(call: Call) -> JSONReply:
    job = _require_job(call.state, call.path_params["job_id"])
    advance(call.state, job)
    call.state.fine_tuning_jobs.add(job)  # kept as it now is (a shared store holds a copy)
    return JSONReply(job)


async def cancel_job(call: Call) -> JSONReply:
    state = call.state
    job = _require_job(state, call.path_params["job_id"])
    if job["status"] in TERMINAL_STATUSES:
        raise APIErrorResponse(
            400, f"Job {job['id']} has already {_past(job['status'])} and cannot be cancelled.", param=None
        )
    job["status"] = "cancelled"
    state.fine_tuning_jobs.add(job)  # kept as it now is (a shared store holds a copy)
    add_event(state, job["id"], "Fine-tuning job cancelled")
    return JSONReply(job)


def _past(status: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed", "cancelled": "been cancelled"}[status]


async def list_events(call: Call) -> JSONReply:
    state = call.state
    job = _require_job(state, call.path_params["job_id"])
    query = ListQuery.parse(
        call.request.query_params, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, orderable=False
    )
    events = state.fine_tuning_events.get(job["id"])
    page = events.page(after=query.after, limit=query.limit, order=query.order) if events else Page([], False)
    return JSONReply(page.body(first_last=False))


async def list_checkpoints(call: Call) -> JSONReply:
    _require_job(call.state, call.path_params["job_id"])
    ListQuery.parse(call.request.query_params, default_limit=10, max_limit=MAX_LIMIT, orderable=False)
    return JSONReply(Page([], False).body(first_last=True))


def routes() -> list[BaseRoute]:
    base = "/v1/fine_tuning/jobs"
    return [
        Route(base, Endpoint(create_job), methods=["POST"]),
        Route(base, Endpoint(list_jobs, json_body=False), methods=["GET"]),
        Route(base + "/{job_id}", Endpoint(retrieve_job, json_body=False), methods=["GET"]),
        Route(base + "/{job_id}/cancel", Endpoint(cancel_job, json_body=False), methods=["POST"]),
        Route(base + "/{job_id}/events", Endpoint(list_events, json_body=False), methods=["GET"]),
        Route(base + "/{job_id}/checkpoints", Endpoint(list_checkpoints, json_body=False), methods=["GET"]),
    ]
