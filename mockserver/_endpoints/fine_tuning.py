"""``/v1/fine_tuning/jobs``: create, list (newest first, metadata filter), retrieve, cancel, events, checkpoints.

Retrieving a job moves it one step along its lifecycle (see ``_fine_tuning_jobs``). Pause/resume are not served:
the SDK's job type has no ``paused`` status to report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute, Route

from .._dispatch import Call, Endpoint
from .._errors import APIErrorResponse, invalid_type, invalid_value, not_found
from .._list_query import ListQuery
from .._metadata import matches_metadata, metadata_filter, parse_metadata
from .._reply import JSONReply
from .._state import ServerState
from .._store import Page
from .._validation import optional_int, optional_list, optional_object, optional_str, required_str
from ._fine_tuning_jobs import TERMINAL_STATUSES, add_event, advance, job_object, new_job_id

__all__ = ["FINE_TUNABLE_MODELS", "routes"]

#: models that can be fine-tuned besides the configured ones (and their dated snapshots)
FINE_TUNABLE_MODELS = ("babbage-002", "davinci-002", "gpt-3.5-turbo", "gpt-4o-mini", "gpt-4o", "gpt-4.1")
METHOD_TYPES = ("supervised", "dpo", "reinforcement")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_SUFFIX = 64
#: (name, integer only, minimum, maximum) of each hyperparameter
_HYPERPARAMETERS = (("batch_size", True, 1, 256), ("learning_rate_multiplier", False, 0, 10), ("n_epochs", True, 1, 50))


def _require_job(state: ServerState, ident: str) -> dict[str, Any]:
    job = state.fine_tuning_jobs.get(ident)
    if job is None:
        raise not_found("fine-tuning job", ident, param="fine_tuning_job_id")
    return job


def _check_model(state: ServerState, model: str) -> None:
    bases = (*state.config.models, *FINE_TUNABLE_MODELS)
    if model.startswith("ft:") or any(model == base or model.startswith(base + "-") for base in bases):
        return
    raise APIErrorResponse(
        400,
        f"Model {model} is not available for fine-tuning or does not exist.",
        param="model",
        code="model_not_available",
    )


def _check_file(state: ServerState, ident: str, param: str) -> None:
    item = state.files.get(ident)
    if item is None:
        raise APIErrorResponse(400, f"invalid {param}: {ident}", param=param)
    if item["purpose"] != "fine-tune":
        raise invalid_value(
            param, f"File {ident} has purpose '{item['purpose']}'; fine-tuning needs a file with purpose 'fine-tune'."
        )


def _hyperparameters(raw: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    given = raw or {}
    chosen: dict[str, Any] = {}
    for field, integer, minimum, maximum in _HYPERPARAMETERS:
        value = given.get(field, "auto")
        param = f"{name}.{field}"
        if value == "auto":
            chosen[field] = "auto"
        elif isinstance(value, bool) or not isinstance(value, int | float) or (integer and isinstance(value, float)):
            raise invalid_type(param, "'auto' or an integer" if integer else "'auto' or a number", value)
        elif not _within(value, minimum, maximum):
            raise invalid_value(param, f"Invalid '{param}': {value} is outside the range {minimum} to {maximum}.")
        else:
            chosen[field] = value
    return chosen


def _within(value: float, minimum: float, maximum: float) -> bool:
    """``minimum <= value <= maximum``, except that a minimum of 0 is exclusive (a rate must be positive)."""
    above = value > minimum if minimum == 0 else value >= minimum
    return above and value <= maximum


def _method(raw: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``method`` to store and the hyperparameters inside it (if any)."""
    if raw is None:
        return None, None
    kind = raw.get("type")
    if kind not in METHOD_TYPES:
        allowed = ", ".join(f"'{choice}'" for choice in METHOD_TYPES)
        raise invalid_value("method.type", f"Invalid value: '{kind}'. Supported values are: {allowed}.")
    settings = optional_object(raw, kind) or {}
    inner = optional_object(settings, "hyperparameters")
    if inner is None:
        return dict(raw), None
    return dict(raw), _hyperparameters(inner, f"method.{kind}.hyperparameters")


async def create_job(call: Call) -> JSONReply:
    body = call.json_object()
    state = call.state
    model = required_str(body, "model")
    training_file = required_str(body, "training_file")
    validation_file = optional_str(body, "validation_file")
    suffix = optional_str(body, "suffix")
    if suffix is not None and len(suffix) > MAX_SUFFIX:
        raise invalid_value("suffix", f"Invalid 'suffix': string too long. Expected at most {MAX_SUFFIX} characters.")
    seed = optional_int(body, "seed", minimum=0, maximum=2_147_483_647)
    metadata = parse_metadata(body)
    integrations = optional_list(body, "integrations")
    method, method_hyperparameters = _method(optional_object(body, "method"))
    hyperparameters = method_hyperparameters or _hyperparameters(
        optional_object(body, "hyperparameters"), "hyperparameters"
    )
    _check_model(state, model)
    _check_file(state, training_file, "training_file")
    if validation_file is not None:
        _check_file(state, validation_file, "validation_file")
    ident = new_job_id(state)
    job = job_object(
        ident,
        created_at=state.now(),
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        hyperparameters=hyperparameters,
        method=method,
        seed=seed if seed is not None else int(state.ids.token(9, "123456789")),
        suffix=suffix,
        metadata=metadata,
        integrations=integrations,
    )
    state.fine_tuning_jobs.add(job)
    add_event(state, ident, f"Created fine-tuning job: {ident}")
    add_event(state, ident, f"Validating training file: {training_file}")
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
    return JSONReply(job)


async def cancel_job(call: Call) -> JSONReply:
    state = call.state
    job = _require_job(state, call.path_params["job_id"])
    if job["status"] in TERMINAL_STATUSES:
        raise APIErrorResponse(
            400, f"Job {job['id']} has already {_past(job['status'])} and cannot be cancelled.", param=None
        )
    job["status"] = "cancelled"
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
