"""Batch objects."""

from __future__ import annotations

from typing import Any

from ._base import APIObject

__all__ = ["Batch", "BatchRequestCounts"]


class BatchRequestCounts(APIObject):
    total: int = 0
    completed: int = 0
    failed: int = 0


class Batch(APIObject):
    id: str = ""
    object: str = "batch"
    endpoint: str = ""
    input_file_id: str = ""
    completion_window: str = ""
    status: str = ""
    created_at: int = 0
    errors: Any = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts | None = None
    metadata: dict[str, Any] | None = None
    model: str | None = None
    usage: Any = None
