"""The ``response`` object: output items made from a :class:`~mockserver.content.generation.Generation`, and the body
with every field the SDK's ``Response`` type reads, in its final form or as the in-progress snapshot a stream
starts with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..content.generation import Generation
from ..content.tokenizer import count_tokens
from ._responses_input import Item, NewId
from ._responses_reasoning import reasoning_item
from ._responses_request import ResponsesRequest

__all__ = ["ResponseOutcome", "build_outcome", "output_text"]


@dataclass(frozen=True, slots=True)
class ResponseOutcome:
    """One finished response: what was asked, what came out, and what it cost."""

    request: ResponsesRequest
    response_id: str
    created_at: int
    completed_at: int
    output: tuple[Item, ...]
    input_tokens: int
    output_tokens: int
    incomplete: bool
    #: of ``output_tokens``, how many were spent thinking
    reasoning_tokens: int = 0
    #: what the message text came from: a stream sends its pieces (made one at a time)
    generation: Generation | None = None

    def text_pieces(self) -> Iterator[str]:
        """The message text as the token pieces a stream sends it in, one at a time."""
        return iter(()) if self.generation is None else self.generation.iter_pieces()

    def text_piece_count(self) -> int:
        """How many pieces :meth:`text_pieces` gives."""
        if self.generation is None or self.generation.text is None:
            return 0
        if self.generation.given_pieces is not None:
            return len(self.generation.given_pieces)
        return count_tokens(self.generation.text)

    @property
    def status(self) -> str:
        return "incomplete" if self.incomplete else "completed"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def body(self) -> dict[str, Any]:
        """The final response object."""
        return self._body(
            status=self.status,
            output=list(self.output),
            usage=self._usage(),
            incomplete_details={"reason": "max_output_tokens"} if self.incomplete else None,
            completed_at=None if self.incomplete else self.completed_at,
        )

    def in_progress_body(self) -> dict[str, Any]:
        """The snapshot ``response.created`` and ``response.in_progress`` carry: no output, no usage yet."""
        return self._body(status="in_progress", output=[], usage=None, incomplete_details=None, completed_at=None)

    def _usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.total_tokens,
        }

    def _body(
        self,
        *,
        status: str,
        output: list[Item],
        usage: dict[str, Any] | None,
        incomplete_details: dict[str, Any] | None,
        completed_at: int | None,
    ) -> dict[str, Any]:
        request = self.request
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": request.background,
            "completed_at": completed_at,
            "error": None,
            "incomplete_details": incomplete_details,
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "max_tool_calls": request.max_tool_calls,
            "model": request.model,
            "output": output,
            "parallel_tool_calls": request.parallel_tool_calls,
            "previous_response_id": request.previous_response_id,
            "prompt_cache_key": request.prompt_cache_key,
            "reasoning": dict(request.reasoning),
            "safety_identifier": request.safety_identifier,
            "service_tier": request.service_tier,
            "store": request.store,
            "temperature": request.temperature,
            "text": request.text,
            "tool_choice": request.tool_choice,
            "tools": request.tools,
            "top_logprobs": request.top_logprobs,
            "top_p": request.top_p,
            "truncation": request.truncation,
            "usage": usage,
            "user": request.user,
            "metadata": dict(request.metadata),
        }


def build_outcome(
    request: ResponsesRequest,
    generation: Generation,
    *,
    response_id: str,
    created_at: int,
    completed_at: int,
    input_tokens: int,
    new_id: NewId,
    reasoning_tokens: int = 0,
) -> ResponseOutcome:
    """The response to ``request`` whose answer is ``generation``, after ``reasoning_tokens`` of thinking (a
    reasoning item comes first when there were any)."""
    incomplete = generation.finish_reason == "length"
    item_status = "incomplete" if incomplete else "completed"
    output: list[Item] = [reasoning_item(request, new_id("rs_"))] if reasoning_tokens else []
    if generation.text is not None:
        output.append(
            {
                "id": new_id("msg_"),
                "type": "message",
                "status": item_status,
                "role": "assistant",
                "content": [output_text(generation.text)],
            }
        )
    calls = generation.tool_calls if request.parallel_tool_calls else generation.tool_calls[:1]
    # calls the model would not have made (parallel_tool_calls false) cost nothing
    unmade = sum(count_tokens(call.name) + count_tokens(call.arguments) for call in generation.tool_calls[len(calls) :])
    for call in calls:
        output.append(
            {
                "id": new_id("fc_"),
                "type": "function_call",
                "status": item_status,
                "arguments": call.arguments,
                "call_id": call.id,
                "name": call.name,
            }
        )
    return ResponseOutcome(
        request=request,
        response_id=response_id,
        created_at=created_at,
        completed_at=completed_at,
        output=tuple(output),
        input_tokens=input_tokens,
        output_tokens=generation.completion_tokens - unmade + reasoning_tokens,
        incomplete=incomplete,
        reasoning_tokens=reasoning_tokens,
        generation=generation,
    )


def output_text(text: str) -> Item:
    """An ``output_text`` content part."""
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
