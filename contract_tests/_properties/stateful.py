"""Stateful: a rule-based machine over files and fine-tuning jobs (upload, delete, create, retrieve, cancel, list)
that keeps a plain in-memory model beside the server and checks, rule by rule, that what the client reports agrees
with it. Rules are synchronous; each drives the client through the portal's loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, rule

from .._property import Env, MachineProperty, Violation

__all__ = ["STATEFUL", "FilesAndJobsMachine"]

T = TypeVar("T")

#: a job moves one step each time it is retrieved (the fake has no trainer)
NEXT_STATUS = {"validating_files": "queued", "queued": "running", "running": "succeeded"}
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
TRAINING_LINE = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
FILE_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,11}\.jsonl", fullmatch=True)


class FilesAndJobsMachine(RuleBasedStateMachine):
    files = Bundle("files")
    jobs = Bundle("jobs")

    def __init__(self, env: Env) -> None:
        super().__init__()
        self.env = env
        env.server.reset()
        self.client: Any = env.portal.call(self._open)
        self.errors = env.target.error_classes(self.client)
        #: file id -> filename
        self.model_files: dict[str, str] = {}
        #: job id -> status
        self.model_jobs: dict[str, str] = {}

    async def _open(self) -> Any:
        return self.env.target.open(base_url=self.env.server.base_url, max_retries=0, timeout=10.0)

    def _call(self, method: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """``await method(*args, **kwargs)`` on the portal's loop, from this synchronous rule."""
        return self.env.portal.call(partial(method, *args, **kwargs))

    def teardown(self) -> None:
        self._call(self.client.close)

    @rule(target=files, name=FILE_NAMES)
    def upload_file(self, name: str) -> str:
        created = self._call(self.client.files.create, file=(name, TRAINING_LINE), purpose="fine-tune")
        if created.filename != name or created.purpose != "fine-tune" or created.bytes != len(TRAINING_LINE):
            raise Violation(f"uploaded {name!r}, the client reports {created!r}")
        self.model_files[created.id] = name
        return str(created.id)

    @rule(file=consumes(files))
    def delete_file(self, file: str) -> None:
        deleted = self._call(self.client.files.delete, file)
        if deleted.id != file or deleted.deleted is not True:
            raise Violation(f"deleting {file} reported {deleted!r}")
        del self.model_files[file]

    @rule(target=jobs, file=files)
    def create_job(self, file: str) -> str:
        job = self._call(self.client.fine_tuning.jobs.create, model="gpt-4o-mini", training_file=file)
        if job.training_file != file or job.status != "validating_files":
            raise Violation(f"a new job for {file} is {job.status!r} with training_file {job.training_file!r}")
        self.model_jobs[job.id] = job.status
        return str(job.id)

    @rule(job=jobs)
    def retrieve_job(self, job: str) -> None:
        got = self._call(self.client.fine_tuning.jobs.retrieve, job)
        status = self.model_jobs[job]
        self.model_jobs[job] = NEXT_STATUS.get(status, status)
        if got.status != self.model_jobs[job]:
            raise Violation(
                f"job {job} was {status!r}; retrieving it reported {got.status!r}, expected {self.model_jobs[job]!r}"
            )

    @rule(job=jobs)
    def cancel_job(self, job: str) -> None:
        status = self.model_jobs[job]
        if status in TERMINAL:
            try:
                self._call(self.client.fine_tuning.jobs.cancel, job)
            except self.errors.BadRequestError:
                return
            raise Violation(f"cancelling job {job}, already {status}, did not raise BadRequestError")
        got = self._call(self.client.fine_tuning.jobs.cancel, job)
        self.model_jobs[job] = "cancelled"
        if got.status != "cancelled":
            raise Violation(f"cancelling job {job} reported {got.status!r}")

    @rule(page_size=st.integers(1, 5))
    def list_files(self, page_size: int) -> None:
        listed = self._call(_collect, self.client.files.list(limit=page_size))
        ours = {item.id: item.filename for item in listed if item.purpose == "fine-tune"}
        if ours != self.model_files:
            raise Violation(f"files.list gave {ours!r}, the model has {self.model_files!r}")

    @rule(page_size=st.integers(1, 5))
    def list_jobs(self, page_size: int) -> None:
        listed = self._call(_collect, self.client.fine_tuning.jobs.list(limit=page_size))
        got = {item.id: item.status for item in listed}
        if len(listed) != len(got) or got != self.model_jobs:
            raise Violation(f"fine_tuning.jobs.list gave {got!r}, the model has {self.model_jobs!r}")


async def _collect(paginator: Any) -> list[Any]:
    return [item async for item in paginator]


def _machine(env: Env) -> RuleBasedStateMachine:
    return FilesAndJobsMachine(env)


STATEFUL = (
    MachineProperty(
        name="stateful.files_and_jobs",
        summary="files and fine-tuning jobs: the client agrees with an in-memory model over any sequence of calls",
        machine=_machine,
        examples=4,
    ),
)
