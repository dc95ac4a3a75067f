"""Fine-tuning jobs and their events."""

from __future__ import annotations

from typing import Any

from ._base import APIObject

__all__ = ["FineTuningJob", "FineTuningJobEvent", "Hyperparameters"]


class Hyperparameters(APIObject):
    #: a number, or ``"auto"``
    batch_size: Any = None
    learning_rate_multiplier: Any = None
    n_epochs: Any = None


class FineTuningJob(APIObject):
    id: str = ""
    object: str = "fine_tuning.job"
    created_at: int = 0
    model: str = ""
    organization_id: str = ""
    error: Any = None
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    hyperparameters: Hyperparameters | None = None
    result_files: list[str] = []
    status: str = ""
    trained_tokens: int | None = None
    training_file: str = ""
    validation_file: str | None = None
    seed: int | None = None
    estimated_finish: int | None = None
    integrations: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    method: Any = None
    user_provided_suffix: str | None = None


class FineTuningJobEvent(APIObject):
    id: str = ""
    object: str = "fine_tuning.job.event"
    created_at: int = 0
    level: str = ""
    message: str = ""
    type: str | None = None
    data: Any = None
