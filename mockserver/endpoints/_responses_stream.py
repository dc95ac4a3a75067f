"""The Responses API's event stream for one finished response, in the order OpenAI sends it.

``response.created`` and ``response.in_progress`` (the in-progress snapshot), then per output item:
``output_item.added``, for a message ``content_part.added``, one ``output_text.delta`` per token piece,
``output_text.done`` and ``content_part.done``; for a function call ``function_call_arguments.delta`` pieces and
``.done``; then ``output_item.done`` (a reasoning item without summary is just ``added`` and ``done``). The
terminal event is ``response.completed`` (or ``response.incomplete``). Every payload carries its ``type`` and a
``sequence_number`` counting from 0; frames are ``event: <type>`` plus ``data: <json>``, with no ``[DONE]``."""

from __future__ import annotations

from typing import Any

from ..content.tokenizer import split_tokens
from ..wire.replies import StreamReply
from ..wire.sse import SSEEvent, json_event
from ._responses_input import Item
from ._responses_output import ResponseOutcome, output_text

__all__ = ["stream_reply"]


class _EventLog:
    """Numbers events as they are appended."""

    def __init__(self) -> None:
        self.events: list[SSEEvent] = []

    def emit(self, kind: str, **fields: Any) -> SSEEvent:
        event = json_event({"type": kind, **fields, "sequence_number": len(self.events)}, event=kind)
        self.events.append(event)
        return event


def stream_reply(outcome: ResponseOutcome) -> StreamReply:
    """The whole stream; ``terminal`` is exactly the final event, ``events`` everything before it."""
    log = _EventLog()
    log.emit("response.created", response=outcome.in_progress_body())
    log.emit("response.in_progress", response=outcome.in_progress_body())
    for index, item in enumerate(outcome.output):
        if item["type"] == "message":
            _message_events(log, index, item, outcome.text_pieces)
        elif item["type"] == "function_call":
            _function_call_events(log, index, item)
        else:
            log.emit("response.output_item.added", output_index=index, item={**item, "summary": []})
            log.emit("response.output_item.done", output_index=index, item=item)
    terminal = log.emit(f"response.{outcome.status}", response=outcome.body())
    return StreamReply(events=tuple(log.events[:-1]), terminal=(terminal,), tokens=outcome.total_tokens)


def _message_events(log: _EventLog, index: int, item: Item, pieces: tuple[str, ...]) -> None:
    item_id = item["id"]
    place = {"item_id": item_id, "output_index": index, "content_index": 0}
    log.emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
    log.emit("response.content_part.added", **place, part=output_text(""))
    for piece in pieces:
        log.emit("response.output_text.delta", **place, delta=piece, logprobs=[])
    part = item["content"][0]
    log.emit("response.output_text.done", **place, text=part["text"], logprobs=[])
    log.emit("response.content_part.done", **place, part=part)
    log.emit("response.output_item.done", output_index=index, item=item)


def _function_call_events(log: _EventLog, index: int, item: Item) -> None:
    place = {"item_id": item["id"], "output_index": index}
    log.emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "arguments": ""})
    for piece in split_tokens(item["arguments"]):
        log.emit("response.function_call_arguments.delta", **place, delta=piece)
    log.emit("response.function_call_arguments.done", **place, name=item["name"], arguments=item["arguments"])
    log.emit("response.output_item.done", output_index=index, item=item)
