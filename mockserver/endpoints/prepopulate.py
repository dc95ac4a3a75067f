"""Items that exist before the first request, as many as the config's ``prepopulate`` asks for.

Every item is deterministic for a seed (ids come from ``state.ids``). Item ``i`` of ``n`` was created
``n - i`` seconds before the server started (or was reset), oldest first, so creation order, ``created_at`` order
and store order agree, and anything created at run time is newer than all of them. Statuses cycle through the
lifecycle of each kind so a listing shows a realistic mix. 10,000 items of each kind take well under a second.
"""

from __future__ import annotations

import gc
import random
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._fine_tuning_jobs import add_event, job_object
from .batches import batch_object
from .files import file_object

if TYPE_CHECKING:
    from ..state.server_state import ServerState

__all__ = ["prepopulate"]

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


def _byte_table(alphabet: str) -> bytes:
    """A ``bytes.translate`` table sending every byte value onto ``alphabet``."""
    return (alphabet * (256 // len(alphabet) + 1))[:256].encode("ascii")


_TABLES = {_ALNUM: _byte_table(_ALNUM), _HEX: _byte_table(_HEX)}

FILE_PURPOSES = ("fine-tune", "batch", "assistants", "user_data")
JOB_STATUSES = ("succeeded", "running", "queued", "failed", "cancelled", "validating_files")
BATCH_STATUSES = ("completed", "in_progress", "failed", "cancelled", "expired", "validating")
FINE_TUNE_MODEL = "gpt-4o-mini-2024-07-18"
CHAT_MODEL = "gpt-4o-mini"
_REQUESTS_PER_BATCH = 10
#: the timestamp field each finished batch status sets
_FINISHED_AT = {
    "completed": "completed_at",
    "failed": "failed_at",
    "cancelled": "cancelled_at",
    "expired": "expired_at",
}


def prepopulate(state: ServerState) -> None:
    """Fill ``state``'s stores with ``state.config.prepopulate`` deterministic items of each kind."""
    counts = state.config.prepopulate
    if not (counts.files or counts.fine_tuning_jobs or counts.batches or counts.chat_completions):
        return
    now = state.now()
    ids = _BulkIds(state.ids.token(16))
    with _collector_paused():
        files_by_purpose = _files(state, ids, counts.files, now)
        _jobs(state, ids, counts.fine_tuning_jobs, now, files_by_purpose.get("fine-tune", []))
        _batches(state, ids, counts.batches, now, files_by_purpose.get("batch", []))
        _chat_completions(state, ids, counts.chat_completions, now)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small dicts that hold no cycles: otherwise it
    keeps rescanning the growing heap and takes about 40% of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _BulkIds:
    """Ids in OpenAI's formats, ~20x faster than drawing each character: random bytes mapped onto the alphabet
    (a slight, harmless bias). Seeded from ``state.ids``, so the items are the same for the same seed."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)

    def new(self, prefix: str, length: int, alphabet: str = _ALNUM) -> str:
        table = _TABLES.get(alphabet) or _byte_table(alphabet)
        return prefix + self._rng.randbytes(length).translate(table).decode("ascii")


def _files(state: ServerState, ids: _BulkIds, count: int, now: int) -> dict[str, list[str]]:
    by_purpose: dict[str, list[str]] = {}
    for index in range(count):
        purpose = FILE_PURPOSES[index % len(FILE_PURPOSES)]
        content = _file_content(purpose, index)
        ident = ids.new("file-", 22)
        item = file_object(
            ident,
            size=len(content),
            created_at=now - (count - index),
            filename=f"{purpose}-{index:05d}.jsonl",
            purpose=purpose,
        )
        state.files.add(item)
        state.file_contents[ident] = content
        by_purpose.setdefault(purpose, []).append(ident)
    return by_purpose


def _file_content(purpose: str, index: int) -> bytes:
    if purpose == "batch":
        return b"".join(
            b'{"custom_id":"request-%d-%d","method":"POST","url":"/v1/chat/completions",'
            b'"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello %d"}]}}\n' % (index, line, line)
            for line in range(_REQUESTS_PER_BATCH)
        )
    return b'{"messages":[{"role":"user","content":"Question %d"},{"role":"assistant","content":"Answer %d"}]}\n' % (
        index,
        index,
    )


def _reference(pool: list[str], index: int, ids: _BulkIds) -> str:
    """A file of the right purpose to point at, or a made-up id when none was prepopulated."""
    return pool[index % len(pool)] if pool else ids.new("file-", 22)


def _jobs(state: ServerState, ids: _BulkIds, count: int, now: int, training_files: list[str]) -> None:
    for index in range(count):
        created = now - (count - index)
        status = JOB_STATUSES[index % len(JOB_STATUSES)]
        ident = ids.new("ftjob-", 24)
        job = job_object(
            ident,
            created_at=created,
            model=FINE_TUNE_MODEL,
            training_file=_reference(training_files, index, ids),
            hyperparameters={"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"},
            seed=index,
            status=status,
            metadata={"prepopulated": "true", "index": str(index), "parity": "even" if index % 2 == 0 else "odd"},
        )
        add_event(state, ident, f"Created fine-tuning job: {ident}", created_at=created, ident=ids.new("ftevent-", 24))
        if status in ("succeeded", "failed", "cancelled"):
            job["finished_at"] = created if status != "cancelled" else None
        if status == "succeeded":
            job["fine_tuned_model"] = f"ft:{FINE_TUNE_MODEL}:mockserver::{ident[-8:]}"
            job["trained_tokens"] = 1000 + index
            add_event(
                state, ident, "The job has successfully completed", created_at=created, ident=ids.new("ftevent-", 24)
            )
        elif status == "failed":
            job["error"] = {
                "code": "invalid_training_file",
                "message": "The job failed due to an invalid training file.",
                "param": "training_file",
            }
            add_event(
                state, ident, job["error"]["message"], created_at=created, level="error", ident=ids.new("ftevent-", 24)
            )
        state.fine_tuning_jobs.add(job)


def _batches(state: ServerState, ids: _BulkIds, count: int, now: int, input_files: list[str]) -> None:
    for index in range(count):
        created = now - (count - index)
        status = BATCH_STATUSES[index % len(BATCH_STATUSES)]
        batch = batch_object(
            ids.new("batch_", 32, _HEX),
            created_at=created,
            endpoint="/v1/chat/completions",
            input_file_id=_reference(input_files, index, ids),
            total=_REQUESTS_PER_BATCH,
            status=status,
            metadata={"prepopulated": "true", "index": str(index)},
            model=CHAT_MODEL,
        )
        if status != "validating":
            batch["in_progress_at"] = created
        stamp = {
            "completed": "completed_at",
            "failed": "failed_at",
            "cancelled": "cancelled_at",
            "expired": "expired_at",
        }
        if status in stamp:
            batch[stamp[status]] = created
        if status == "completed":
            batch["finalizing_at"] = created
            batch["request_counts"] = {"total": _REQUESTS_PER_BATCH, "completed": _REQUESTS_PER_BATCH, "failed": 0}
        elif status == "cancelled":
            batch["cancelling_at"] = created
        state.batches.add(batch)


def _chat_completions(state: ServerState, ids: _BulkIds, count: int, now: int) -> None:
    for index in range(count):
        ident = ids.new("chatcmpl-", 29)
        content = f"Stored answer number {index}."
        state.chat_completions.add(_chat_completion(ids, ident, now - (count - index), content, index))
        state.chat_completion_messages[ident] = [
            {
                "role": "user",
                "id": f"{ident}-0",
                "content": f"Stored question number {index}?",
                "refusal": None,
                "content_parts": None,
            }
        ]


def _chat_completion(ids: _BulkIds, ident: str, created: int, content: str, index: int) -> dict[str, Any]:
    prompt_tokens, completion_tokens = 12, len(content.split()) + 1
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": ids.new("fp_", 10, _HEX),
        "metadata": {"prepopulated": "true", "index": str(index)},
    }
