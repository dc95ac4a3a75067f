"""The Responses API's event stream for one finished response, in the order OpenAI sends it.

``response.created`` and ``response.in_progress`` (the in-progress snapshot), then per output item:
``output_item.added``, for a message ``content_part.added``, one ``output_text.delta`` per token piece,
``output_text.done`` and ``content_part.done``; for a function call ``function_call_arguments.delta`` pieces and
``.done``; then ``output_item.done`` (a reasoning item without summary is just ``added`` and ``done``). The
terminal event is ``response.completed`` (or ``response.incomplete``). Every payload carries its ``type`` and a
``sequence_number`` counting from 0; frames are ``event: <type>`` plus ``data: <json>``, with no ``[DONE]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..content.tokenizer import count_tokens, iter_tokens
from ..wire.replies import StreamReply
from ..wire.sse import SSEEvent, json_event
from ._responses_input import Item
from ._responses_output import ResponseOutcome, output_text

__all__ = ["stream_reply"]


class _EventLog:
    """Numbers events as they are made."""

    def __init__(self) -> None:
        self.count = 0

    def emit(self, kind: str, **fields: Any) -> SSEEvent:
        event = json_event({"type": kind, **fields, "sequence_number": self.count}, event=kind)
        self.count += 1
        return event


def stream_reply(outcome: ResponseOutcome) -> StreamReply:
    """The whole stream; ``terminal`` is exactly the final event, ``events`` everything before it, made as they are
    taken (so a long reply is never held as events)."""
    terminal = json_event(
        {"type": f"response.{outcome.status}", "response": outcome.body(), "sequence_number": _event_count(outcome)},
        event=f"response.{outcome.status}",
    )
    return StreamReply(events=_events(outcome), terminal=(terminal,), tokens=outcome.total_tokens)


def _event_count(outcome: ResponseOutcome) -> int:
    """How many events come before the terminal one (its ``sequence_number``)."""
    count = 2
    for item in outcome.output:
        if item["type"] == "message":
            count += 5 + outcome.text_piece_count()
        elif item["type"] == "function_call":
            count += 3 + count_tokens(item["arguments"])
        else:
            count += 2
    return count


def _events(outcome: ResponseOutcome) -> Iterator[SSEEvent]:
    log = _EventLog()
    yield log.emit("response.created", response=outcome.in_progress_body())
    yield log.emit("response.in_progress", response=outcome.in_progress_body())
    for index, item in enumerate(outcome.output):
        if item["type"] == "message":
            yield from _message_events(log, index, item, outcome.text_pieces())
        elif item["type"] == "function_call":
            yield from _function_call_events(log, index, item)
        else:
            yield log.emit("response.output_item.added", output_index=index, item={**item, "summary": []})
            yield log.emit("response.output_item.done", output_index=index, item=item)


def _message_events(log: _EventLog, index: int, item: Item, pieces: Iterator[str]) -> Iterator[SSEEvent]:
    item_id = item["id"]
    place = {"item_id": item_id, "output_index": index, "content_index": 0}
    yield log.emit(
        "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []}
    )
    yield log.emit("response.content_part.added", **place, part=output_text(""))
    for piece in pieces:
        yield log.emit("response.output_text.delta", **place, delta=piece, logprobs=[])
    part = item["content"][0]
    yield log.emit("response.output_text.done", **place, text=part["text"], logprobs=[])
    yield log.emit("response.content_part.done", **place, part=part)
    yield log.emit("response.output_item.done", output_index=index, item=item)


def _function_call_events(log: _EventLog, index: int, item: Item) -> Iterator[SSEEvent]:
    place = {"item_id": item["id"], "output_index": index}
    yield log.emit(
        "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "arguments": ""}
    )
    for piece in iter_tokens(item["arguments"]):
        yield log.emit("response.function_call_arguments.delta", **place, delta=piece)
    yield log.emit("response.function_call_arguments.done", **place, name=item["name"], arguments=item["arguments"])
    yield log.emit("response.output_item.done", output_index=index, item=item)
