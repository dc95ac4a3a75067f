"""The body of ``POST /v1/fine_tuning/jobs``, checked the way OpenAI checks it, as a :class:`JobRequest` value.

What the fake stores is rebuilt from checked parts (never the raw body), so a stored job always parses as the
SDK's ``FineTuningJob``. The one exception: a ``reinforcement`` method's ``grader`` is kept as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, invalid_type, invalid_value, missing_parameter
from ..wire.fields import optional_int, optional_list, optional_object, optional_str, required_str
from ..wire.metadata import parse_metadata

__all__ = ["FINE_TUNABLE_MODELS", "JobRequest", "parse_job_request"]

#: models that can be fine-tuned besides the configured ones (and their dated snapshots)
FINE_TUNABLE_MODELS = ("babbage-002", "davinci-002", "gpt-3.5-turbo", "gpt-4o-mini", "gpt-4o", "gpt-4.1")
METHOD_TYPES = ("supervised", "dpo", "reinforcement")
MAX_SUFFIX = 64
MAX_SEED = 2_147_483_647
#: (name, integer only, minimum, maximum) of the hyperparameters every method has; a minimum of 0 is exclusive
_COMMON = (("batch_size", True, 1, 256), ("learning_rate_multiplier", False, 0, 10), ("n_epochs", True, 1, 50))
_DPO_ONLY = (("beta", False, 0, 2),)


@dataclass(frozen=True, slots=True)
class JobRequest:
    model: str
    training_file: str
    validation_file: str | None
    #: the job's top-level ``hyperparameters`` (``batch_size``, ``learning_rate_multiplier``, ``n_epochs``)
    hyperparameters: dict[str, Any]
    method: dict[str, Any]
    suffix: str | None
    seed: int | None
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]] | None


def parse_job_request(body: Mapping[str, Any], state: ServerState) -> JobRequest:
    model = required_str(body, "model")
    training_file = required_str(body, "training_file")
    validation_file = optional_str(body, "validation_file")
    suffix = optional_str(body, "suffix")
    if suffix is not None and len(suffix) > MAX_SUFFIX:
        raise invalid_value("suffix", f"Invalid 'suffix': string too long. Expected at most {MAX_SUFFIX} characters.")
    seed = optional_int(body, "seed", minimum=0, maximum=MAX_SEED)
    metadata = parse_metadata(body)
    integrations = _integrations(optional_list(body, "integrations"))
    top = _hyperparameters(optional_object(body, "hyperparameters"), "hyperparameters", _COMMON)
    method = _method(optional_object(body, "method"), top)
    kind = method["type"]
    hyperparameters = {name: method[kind]["hyperparameters"][name] for name, *_ in _COMMON}
    _check_model(state, model)
    _check_file(state, training_file, "training_file")
    if validation_file is not None:
        _check_file(state, validation_file, "validation_file")
    return JobRequest(
        model, training_file, validation_file, hyperparameters, method, suffix, seed, metadata, integrations
    )


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


def _hyperparameters(
    raw: Mapping[str, Any] | None, name: str, fields: tuple[tuple[str, bool, float, float], ...]
) -> dict[str, Any]:
    given = raw or {}
    chosen: dict[str, Any] = {}
    for field, integer, minimum, maximum in fields:
        value = given.get(field, "auto")
        param = f"{name}.{field}"
        if value == "auto" or value is None:
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


def _method(raw: dict[str, Any] | None, top: dict[str, Any]) -> dict[str, Any]:
    """The method to store; without one, ``supervised`` with the top-level hyperparameters."""
    if raw is None:
        return {"type": "supervised", "supervised": {"hyperparameters": top}}
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in METHOD_TYPES:
        allowed = ", ".join(f"'{choice}'" for choice in METHOD_TYPES)
        raise invalid_value("method.type", f"Invalid value: '{kind}'. Supported values are: {allowed}.")
    settings = optional_object(raw, kind) or {}
    name = f"method.{kind}.hyperparameters"
    inner = optional_object(settings, "hyperparameters")
    fields = _COMMON + _DPO_ONLY if kind == "dpo" else _COMMON
    hyperparameters = _hyperparameters(inner, name, fields) if inner is not None else {**_auto(fields), **top}
    chosen: dict[str, Any] = {"hyperparameters": hyperparameters}
    if kind == "reinforcement":
        grader = optional_object(settings, "grader")
        if grader is None:
            raise missing_parameter("method.reinforcement.grader")
        chosen["grader"] = grader
    return {"type": kind, kind: chosen}


def _auto(fields: tuple[tuple[str, bool, float, float], ...]) -> dict[str, Any]:
    return {field: "auto" for field, *_ in fields}


def _integrations(raw: list[Any] | None) -> list[dict[str, Any]] | None:
    """Weights & Biases integrations, the only kind OpenAI offers, rebuilt from their checked fields."""
    if raw is None:
        return None
    checked = []
    for position, item in enumerate(raw):
        where = f"integrations[{position}]"
        if not isinstance(item, dict):
            raise invalid_type(where, "an object", item)
        if item.get("type") != "wandb":
            raise invalid_value(f"{where}.type", f"Invalid value: '{item.get('type')}'. Supported values are: 'wandb'.")
        wandb = optional_object(item, "wandb")
        if wandb is None:
            raise missing_parameter(f"{where}.wandb")
        entry: dict[str, Any] = {"project": required_str(wandb, "project")}
        for field in ("entity", "name"):
            entry[field] = optional_str(wandb, field)
        tags = optional_list(wandb, "tags") or []
        if not all(isinstance(tag, str) for tag in tags):
            raise invalid_type(f"{where}.wandb.tags", "an array of strings", tags)
        entry["tags"] = tags
        checked.append({"type": "wandb", "wandb": entry})
    return checked
