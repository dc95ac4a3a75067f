"""Fine-tuning job objects: building one, recording its events, and moving it through its lifecycle.

A job is created ``validating_files``. The fake has no trainer, so a job moves one step each time it is retrieved
(``GET /v1/fine_tuning/jobs/{id}``): ``validating_files`` -> ``queued`` -> ``running`` -> ``succeeded``. A client
that polls until the job is done therefore finishes after three polls, deterministically, with no clock involved.
Each step records the events OpenAI would (newest first in the events list).
"""

from __future__ import annotations

from typing import Any

from ..state.server_state import ServerState
from .files import file_object

__all__ = ["ORGANIZATION_ID", "TERMINAL_STATUSES", "add_event", "advance", "job_object", "new_job_id"]

ORGANIZATION_ID = "org-mockserver"
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
#: what ``"auto"`` hyperparameters resolve to once a job runs
_RESOLVED_AUTO = {"batch_size": 1, "learning_rate_multiplier": 2.0, "n_epochs": 3}
_STEPS = 3


def new_job_id(state: ServerState) -> str:
    return state.ids.new("ftjob-", 24)


def job_object(
    ident: str,
    *,
    created_at: int,
    model: str,
    training_file: str,
    hyperparameters: dict[str, Any],
    seed: int,
    status: str = "validating_files",
    validation_file: str | None = None,
    method: dict[str, Any] | None = None,
    suffix: str | None = None,
    metadata: dict[str, str] | None = None,
    integrations: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job",
        "id": ident,
        "model": model,
        "created_at": created_at,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": ORGANIZATION_ID,
        "result_files": [],
        "status": status,
        "validation_file": validation_file,
        "training_file": training_file,
        "hyperparameters": hyperparameters,
        "method": method or {"type": "supervised", "supervised": {"hyperparameters": dict(hyperparameters)}},
        "trained_tokens": None,
        "error": None,
        "user_provided_suffix": suffix,
        "seed": seed,
        "estimated_finish": None,
        "integrations": integrations,
        "metadata": metadata,
    }


def add_event(
    state: ServerState,
    job_id: str,
    message: str,
    *,
    created_at: int | None = None,
    level: str = "info",
    data: dict[str, Any] | None = None,
    ident: str | None = None,
) -> dict[str, Any]:
    """Record an event of job ``job_id`` (``type`` is ``metrics`` when ``data`` is given)."""
    event = {
        "object": "fine_tuning.job.event",
        "id": ident or state.ids.new("ftevent-", 24),
        "created_at": state.now() if created_at is None else created_at,
        "level": level,
        "message": message,
        "data": data or {},
        "type": "metrics" if data else "message",
    }
    return state.events_for(job_id).add(event)


def advance(state: ServerState, job: dict[str, Any]) -> None:
    """Move ``job`` one step along its lifecycle (nothing happens to a finished job)."""
    status = job["status"]
    if status == "validating_files":
        job["status"] = "queued"
        add_event(state, job["id"], f"Files validated, moving job {job['id']} to queued state")
    elif status == "queued":
        job["status"] = "running"
        job["hyperparameters"] = _resolved(job["hyperparameters"])
        add_event(state, job["id"], f"Fine-tuning job started: {job['id']}")
    elif status == "running":
        _succeed(state, job)


def _resolved(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    return {
        name: hyperparameters.get(name) if hyperparameters.get(name) not in (None, "auto") else default
        for name, default in _RESOLVED_AUTO.items()
    }


def _succeed(state: ServerState, job: dict[str, Any]) -> None:
    now = state.now()
    ident = job["id"]
    for step in range(1, _STEPS + 1):
        loss = round(1.0 / (step + 1), 4)
        add_event(
            state,
            ident,
            f"Step {step}/{_STEPS}: training loss={loss}",
            data={"step": step, "train_loss": loss, "total_steps": _STEPS},
        )
    model_name = f"ft:{job['model']}:mockserver:{job.get('user_provided_suffix') or ''}:{state.ids.token(8)}"
    results = _result_file(state, created_at=now)
    training = state.files.get(job["training_file"])
    epochs = job["hyperparameters"].get("n_epochs")
    job.update(
        status="succeeded",
        finished_at=now,
        fine_tuned_model=model_name,
        result_files=[results],
        trained_tokens=(training["bytes"] // 4 if training else 0) * (epochs if isinstance(epochs, int) else 1),
    )
    add_event(state, ident, f"New fine-tuned model created: {model_name}")
    add_event(state, ident, "The job has successfully completed")


def _result_file(state: ServerState, *, created_at: int) -> str:
    content = b"step,train_loss\n" + b"".join(
        f"{step},{round(1.0 / (step + 1), 4)}\n".encode() for step in range(1, _STEPS + 1)
    )
    item = file_object(
        state.ids.new("file-", 22),
        size=len(content),
        created_at=created_at,
        filename="step_metrics.csv",
        purpose="fine-tune-results",
    )
    state.files.add(item)
    state.file_contents[item["id"]] = content
    return str(item["id"])
