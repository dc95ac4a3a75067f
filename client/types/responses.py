"""Responses API objects: the response, its output items, and the streamed events."""

from __future__ import annotations

from typing import Any

from ._base import APIObject

__all__ = [
    "Response",
    "ResponseContent",
    "ResponseDeleted",
    "ResponseError",
    "ResponseOutputItem",
    "ResponseStreamEvent",
    "ResponseUsage",
]


class ResponseContent(APIObject):
    """A content part of a message item (``output_text``, ``refusal``...)."""

    type: str = ""
    text: str | None = None
    annotations: list[Any] | None = None
    refusal: str | None = None
    logprobs: list[Any] | None = None


class ResponseOutputItem(APIObject):
    """One output item: a ``message``, a ``function_call``, ``reasoning``... (fields of the other kinds stay
    ``None``)."""

    type: str = ""
    id: str | None = None
    status: str | None = None
    role: str | None = None
    content: list[ResponseContent] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    summary: list[Any] | None = None


class ResponseError(APIObject):
    code: str | None = None
    message: str = ""


class ResponseUsage(APIObject):
    input_tokens: int = 0
    input_tokens_details: dict[str, Any] | None = None
    output_tokens: int = 0
    output_tokens_details: dict[str, Any] | None = None
    total_tokens: int = 0


class Response(APIObject):
    id: str = ""
    object: str = "response"
    created_at: float = 0
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: Any = None
    instructions: Any = None
    model: str = ""
    output: list[ResponseOutputItem] = []
    parallel_tool_calls: bool | None = None
    tool_choice: Any = None
    tools: list[Any] = []
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    previous_response_id: str | None = None
    metadata: dict[str, Any] | None = None
    usage: ResponseUsage | None = None
    text: Any = None
    reasoning: Any = None
    store: bool | None = None
    user: str | None = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, joined (as the SDK's property)."""
        return "".join(
            part.text or ""
            for item in self.output
            if item.type == "message"
            for part in item.content or ()
            if part.type == "output_text"
        )


class ResponseDeleted(APIObject):
    id: str = ""
    object: str = "response.deleted"
    deleted: bool = False


class ResponseStreamEvent(APIObject):
    """Any streamed Responses event; ``type`` says which, and only that kind's fields are set."""

    type: str = ""
    sequence_number: int = 0
    response: Response | None = None
    item: ResponseOutputItem | None = None
    part: ResponseContent | None = None
    output_index: int | None = None
    content_index: int | None = None
    item_id: str | None = None
    delta: str | None = None
    text: str | None = None
    arguments: str | None = None
    name: str | None = None
    logprobs: list[Any] | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
