"""What Azure OpenAI adds to an OpenAI reply, as Azure sends it.

- Chat and legacy completions carry ``prompt_filter_results`` (one entry per prompt, each with its
  ``content_filter_results``) and a ``content_filter_results`` object on every choice (``hate``, ``self_harm``,
  ``sexual``, ``violence``: ``{"filtered": false, "severity": "safe"}``). A stream opens with a chunk whose
  ``choices`` is empty and which carries ``prompt_filter_results``; each chunk's choice then has its
  ``content_filter_results`` (empty on the role and finish chunks, as Azure sends them). Azure sends that first
  chunk with an empty ``id``, ``object`` and ``model``; the fake keeps the stream's own, which the SDK's strict
  validation accepts.
- A 429 is Azure's: its message (naming the operation and the ``api-version``), code ``"429"``, and
  ``retry-after``, ``retry-after-ms`` and ``x-ratelimit-remaining-requests`` / ``-tokens`` headers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from ..wire.json_codec import dumps, loads
from ..wire.replies import JSONReply, Reply, StreamReply
from ..wire.sse import SSEEvent
from .routing import AzureTarget

__all__ = ["FILTER_CATEGORIES", "azure_reply", "safe_content"]

#: the categories of Azure's default content filter
FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def safe_content() -> dict[str, Any]:
    """A ``content_filter_results`` object with every category judged safe, not filtered (a fresh value)."""
    return {category: {"filtered": False, "severity": "safe"} for category in FILTER_CATEGORIES}


_OPERATIONS = {
    "/v1/chat/completions": "ChatCompletions_Create",
    "/v1/completions": "Completions_Create",
    "/v1/embeddings": "Embeddings_Create",
}
_FILTERED = frozenset({"/v1/chat/completions", "/v1/completions"})


def azure_reply(target: AzureTarget, path: str, reply: Reply, *, content_filters: bool = True) -> Reply:
    """``reply`` (to the OpenAI ``path``) as Azure sends it. ``content_filters=False`` for answers that are real
    (relayed from an upstream, or replayed from a cassette): they carry what the upstream sent, and only a 429 the
    fake itself answers is put in Azure's form."""
    if isinstance(reply, JSONReply) and reply.status == 429:
        return _rate_limited(target, path, reply)
    if not content_filters or path.rstrip("/") not in _FILTERED:
        return reply
    if isinstance(reply, StreamReply):
        return StreamReply(_filtered_events(reply.events), reply.terminal, reply.headers, reply.tokens)
    if isinstance(reply, JSONReply) and reply.status == 200 and isinstance(reply.body, dict):
        return JSONReply(_filtered_body(reply.body), reply.status, reply.headers, reply.tokens)
    return reply


def _prompt_filter_results(count: int) -> list[dict[str, Any]]:
    return [{"prompt_index": index, "content_filter_results": safe_content()} for index in range(count)]


def _filtered_body(body: dict[str, Any]) -> dict[str, Any]:
    choices = [{**choice, "content_filter_results": safe_content()} for choice in body.get("choices", [])]
    return {**body, "prompt_filter_results": _prompt_filter_results(1), "choices": choices}


def _filtered_events(events: Iterable[SSEEvent]) -> Iterator[SSEEvent]:
    """The events as Azure streams them, made one by one as ``events`` yields them (a long stream is never whole
    in memory): an opening chunk of prompt filter results, then each chunk with its choices' filter results."""
    opened = False
    for event in events:
        chunk = loads(event.data)
        if not opened and isinstance(chunk, dict):
            opening = {**chunk, "choices": [], "prompt_filter_results": _prompt_filter_results(1)}
            opening.pop("usage", None)
            yield SSEEvent(dumps(opening), event.event)
        opened = True
        if isinstance(chunk, dict) and chunk.get("choices"):
            chunk["choices"] = [
                {**choice, "content_filter_results": _choice_filter(choice)} for choice in chunk["choices"]
            ]
            yield SSEEvent(dumps(chunk), event.event)
        else:
            yield event


def _choice_filter(choice: dict[str, Any]) -> dict[str, Any]:
    """Results for a chunk that carries generated text; ``{}`` for the role and finish chunks."""
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    return safe_content() if text else {}


def _rate_limited(target: AzureTarget, path: str, reply: JSONReply) -> JSONReply:
    headers = {name.lower(): value for name, value in reply.headers.items()}
    if "retry-after-ms" in headers:
        wait_ms = float(headers["retry-after-ms"])
    elif "retry-after" in headers:
        wait_ms = float(headers["retry-after"]) * 1000
    else:
        wait_ms = 1000.0
    seconds = max(1, math.ceil(wait_ms / 1000))
    operation = _OPERATIONS.get(path.rstrip("/"), "the requested")
    version = target.api_version or "v1"
    message = (
        f"Requests to the {operation} Operation under Azure OpenAI API version {version} have exceeded call rate "
        f"limit of your current OpenAI S0 pricing tier. Please retry after {seconds} "
        f"{'second' if seconds == 1 else 'seconds'}. Please go here: https://aka.ms/oai/quotaincrease if you would "
        "like to further increase the default rate limit."
    )
    headers["retry-after"] = str(seconds)
    headers["retry-after-ms"] = str(round(wait_ms))
    headers.setdefault("x-ratelimit-remaining-requests", "0")
    headers.setdefault("x-ratelimit-remaining-tokens", "0")
    body = {"error": {"message": message, "type": "requests", "param": None, "code": "429"}}
    return JSONReply(body, 429, headers, reply.tokens)
