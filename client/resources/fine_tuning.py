"""``client.fine_tuning.jobs``: create, list, retrieve, cancel, list_events."""
# ruff: noqa: ASYNC109  (the SDK's API: every method takes a per-call ``timeout=``)

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from .._pagination import AsyncCursorPage, AsyncPaginator, CursorPageBody
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutLike
from .._url import path_segment
from ..types.fine_tuning import FineTuningJob, FineTuningJobEvent
from ._base import APIResource, Extras

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["FineTuning", "Jobs"]

_JOB = msgspec.json.Decoder(FineTuningJob)
_JOB_PAGE = msgspec.json.Decoder(CursorPageBody[FineTuningJob])
_EVENT_PAGE = msgspec.json.Decoder(CursorPageBody[FineTuningJobEvent])
_BASE = "/fine_tuning/jobs"


class Jobs(APIResource):
    async def create(
        self,
        *,
        model: str,
        training_file: str,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> FineTuningJob:
        """Start a job; ``hyperparameters``, ``suffix``, ``validation_file``, ``seed``... pass through."""
        body = {"model": model, "training_file": training_file, **params}
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("POST", _BASE, extras, json=body), _JOB)

    async def retrieve(
        self,
        fine_tuning_job_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> FineTuningJob:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return await self._fetch(self._call("GET", f"{_BASE}/{path_segment(fine_tuning_job_id)}", extras), _JOB)

    async def cancel(
        self,
        fine_tuning_job_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> FineTuningJob:
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        call = self._call("POST", f"{_BASE}/{path_segment(fine_tuning_job_id)}/cancel", extras)
        return await self._fetch(call, _JOB)

    def list(
        self,
        *,
        after: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[FineTuningJob, AsyncCursorPage[FineTuningJob]]:
        params = {"after": after, "limit": limit, "metadata": metadata}
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return self._cursor_list(_BASE, _JOB_PAGE, params, extras)

    def list_events(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[FineTuningJobEvent, AsyncCursorPage[FineTuningJobEvent]]:
        path = f"{_BASE}/{path_segment(fine_tuning_job_id)}/events"
        extras = Extras(extra_headers, extra_query, extra_body, timeout)
        return self._cursor_list(path, _EVENT_PAGE, {"after": after, "limit": limit}, extras)


class FineTuning(APIResource):
    __slots__ = ("jobs",)

    def __init__(self, client: AsyncOpenAI) -> None:
        super().__init__(client)
        self.jobs = Jobs(client)
