"""What a chat request gets back: the planned choices, as one ``chat.completion`` body or as a stream of chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from ..content.generation import Generation, GenerationRequest, generate
from ..content.logprobs import chat_logprobs, logprob_rng
from ..state.server_state import ServerState
from ..wire.json_codec import dumps
from ..wire.sse import SSEEvent, json_event
from ._chat_request import ChatRequest
from ._generation_fields import usage_body

__all__ = ["ChatChoice", "ChatReply", "encoded_deltas", "generate_choices", "plan_reply"]

#: where a chunk's choices go in its encoded frame
_EMPTY_CHOICES = b'"choices":[]'


@dataclass(frozen=True, slots=True)
class ChatChoice:
    index: int
    generation: Generation
    #: one token-logprob object per text piece, when the request asked for logprobs
    logprobs: tuple[dict[str, Any], ...] | None


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One answered request: everything both delivery shapes need, fixed before either is built."""

    request: ChatRequest
    id: str
    created: int
    fingerprint: str
    choices: tuple[ChatChoice, ...]

    @property
    def completion_tokens(self) -> int:
        return sum(choice.generation.completion_tokens for choice in self.choices)

    @property
    def total_tokens(self) -> int:
        return self.request.prompt_tokens + self.completion_tokens

    def usage(self) -> dict[str, Any]:
        return usage_body(self.request.prompt_tokens, self.completion_tokens)

    def body(self) -> dict[str, Any]:
        """The ``chat.completion`` object."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.request.model,
            "choices": [_choice_body(choice) for choice in self.choices],
            "usage": self.usage(),
            "service_tier": self.request.service_tier,
            "system_fingerprint": self.fingerprint,
        }

    def chunk_events(self, deltas: Sequence[Sequence[bytes]] | None = None) -> tuple[SSEEvent, ...]:
        """Every ``chat.completion.chunk`` event, choices interleaved; the usage chunk last when asked for.

        The fields every chunk repeats are encoded once: each event is that frame around its encoded choice.
        ``deltas`` are :func:`encoded_deltas` of these choices, when the caller kept them from an earlier reply."""
        frame = dumps(self._chunk([]))
        split = frame.rindex(_EMPTY_CHOICES) + len(_EMPTY_CHOICES) - 1
        head, tail = frame[:split], frame[split:]
        per_choice = encoded_deltas(self.choices) if deltas is None else deltas
        if len(per_choice) == 1:
            events = [SSEEvent(head + delta + tail) for delta in per_choice[0]]
        else:
            events = [
                SSEEvent(head + delta + tail)
                for round_ in zip_longest(*per_choice)
                for delta in round_
                if delta is not None
            ]
        if self.request.include_usage:
            events.append(json_event({**self._chunk([]), "usage": self.usage()}))
        return tuple(events)

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.request.model,
            "service_tier": self.request.service_tier,
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        }
        if self.request.include_usage:
            chunk["usage"] = None
        return chunk


def generate_choices(
    state: ServerState, request: ChatRequest, *, consume_canned: bool = True
) -> tuple[Generation, ...]:
    """Every choice's generation (consuming canned replies once per choice, unless told not to: then the result
    is a pure function of the config and the request)."""
    return tuple(
        generate(
            state,
            GenerationRequest(
                prompt=request.prompt,
                key=request.key,
                choice_index=index,
                max_tokens=request.max_tokens,
                stop=request.stop,
                tools=request.tools,
                tool_choice=request.tool_choice,
                parallel_tool_calls=request.parallel_tool_calls,
                json_schema=request.json_schema,
            ),
            consume_canned=consume_canned,
        )
        for index in range(request.n)
    )


def plan_reply(
    state: ServerState, request: ChatRequest, generations: tuple[Generation, ...], fingerprint: str
) -> ChatReply:
    """The reply to ``request`` from its choices' generations: a fresh id and ``created``, logprobs drawn from the
    request's key."""
    choices = []
    for index, generation in enumerate(generations):
        logprobs = None
        if request.logprobs:
            logprobs = tuple(chat_logprobs(logprob_rng(request.key, index), generation.pieces, request.top_logprobs))
        choices.append(ChatChoice(index, generation, logprobs))
    return ChatReply(
        request=request,
        id=state.ids.new("chatcmpl-", 29),
        created=state.now(),
        fingerprint=fingerprint,
        choices=tuple(choices),
    )


def _choice_body(choice: ChatChoice) -> dict[str, Any]:
    generation = choice.generation
    message: dict[str, Any] = {"role": "assistant", "content": generation.text, "refusal": None, "annotations": []}
    if generation.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in generation.tool_calls
        ]
    logprobs = None
    if choice.logprobs is not None:
        content = list(choice.logprobs) if generation.text is not None else None
        logprobs = {"content": content, "refusal": None}
    return {"index": choice.index, "message": message, "logprobs": logprobs, "finish_reason": generation.finish_reason}


def encoded_deltas(choices: Sequence[ChatChoice]) -> tuple[tuple[bytes, ...], ...]:
    """Per choice, the encoded ``choices[0]`` of each chunk it streams: a function of the choices alone."""
    return tuple(tuple(_choice_deltas(choice)) for choice in choices)


def _choice_deltas(choice: ChatChoice) -> list[bytes]:
    """The encoded ``choices[0]`` of each chunk one choice streams: role, content pieces, tool-call fragments,
    finish."""
    generation = choice.generation
    first_content = "" if generation.text is not None else None
    deltas = [_delta(choice.index, {"role": "assistant", "content": first_content, "refusal": None})]
    if choice.logprobs is None:
        # the common case, one chunk per token: only the piece changes from chunk to chunk
        before, after = b'{"index":%d,"delta":{"content":' % choice.index, b'},"logprobs":null,"finish_reason":null}'
        deltas.extend(before + dumps(piece) + after for piece in generation.pieces)
    else:
        for position, piece in enumerate(generation.pieces):
            logprobs = {"content": [choice.logprobs[position]], "refusal": None}
            deltas.append(_delta(choice.index, {"content": piece}, logprobs=logprobs))
    for call_index, call in enumerate(generation.tool_calls):
        opening = {
            "index": call_index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        deltas.append(_delta(choice.index, {"tool_calls": [opening]}))
        for piece in call.argument_pieces():
            deltas.append(
                _delta(choice.index, {"tool_calls": [{"index": call_index, "function": {"arguments": piece}}]})
            )
    deltas.append(_delta(choice.index, {}, finish_reason=generation.finish_reason))
    return deltas


def _delta(
    index: int, delta: dict[str, Any], *, logprobs: dict[str, Any] | None = None, finish_reason: str | None = None
) -> bytes:
    return dumps({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason})
