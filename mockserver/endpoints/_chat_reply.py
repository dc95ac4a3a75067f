"""What a chat request gets back: the planned choices, as one ``chat.completion`` body or as a stream of chunks.

A stream is made as it is sent: :meth:`ChatReply.chunk_events` is an iterator that encodes one chunk at a time
(its token piece and logprobs made then), so a stream holds one event, whatever its length or ``n``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import zip_longest
from typing import Any

import msgspec

from ..content.generation import Generation, GenerationRequest, generate, generate_text
from ..content.logprobs import chat_logprobs, iter_chat_logprobs, logprob_rng
from ..state.server_state import ServerState
from ..wire.json_codec import dumps
from ..wire.sse import SSEEvent, json_event
from ._chat_request import ChatRequest
from ._generation_fields import SERVICE_TIERS, usage_body

__all__ = ["ChatChoice", "ChatReply", "GenerationStopped", "generate_choices", "plan_reply"]

#: where a chunk's choices go in its encoded frame
_EMPTY_CHOICES = b'"choices":[]'


class GenerationStopped(Exception):
    """Generation was given up (the client left, or the server is stopping)."""


# msgspec structs rather than frozen dataclasses: as immutable, and many times faster to make (made for every
# request)
class ChatChoice(msgspec.Struct, frozen=True):
    index: int
    generation: Generation
    #: ``top_logprobs`` when the request asked for logprobs, else ``None``
    logprobs_top: int | None
    #: the request's key, from which the logprobs are drawn
    key: bytes

    @property
    def logprobs(self) -> tuple[dict[str, Any], ...] | None:
        """One token-logprob object per text piece, when the request asked for logprobs (made on each call)."""
        if self.logprobs_top is None:
            return None
        return tuple(chat_logprobs(logprob_rng(self.key, self.index), self.generation.pieces, self.logprobs_top))

    def iter_logprobs(self) -> Iterator[dict[str, Any]]:
        """:attr:`logprobs` one at a time (the same draws)."""
        return iter_chat_logprobs(
            logprob_rng(self.key, self.index), self.generation.iter_pieces(), self.logprobs_top or 0
        )


class ChatReply(msgspec.Struct, frozen=True):
    """One answered request: everything both delivery shapes need, fixed before either is built."""

    request: ChatRequest
    id: str
    created: int
    fingerprint: str
    choices: tuple[ChatChoice, ...]

    @property
    def completion_tokens(self) -> int:
        choices = self.choices
        if len(choices) == 1:
            return choices[0].generation.completion_tokens
        return sum(choice.generation.completion_tokens for choice in choices)

    @property
    def total_tokens(self) -> int:
        choices = self.choices
        if len(choices) == 1:  # (the commonest, without a second property's frame)
            return self.request.prompt_tokens + choices[0].generation.completion_tokens
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

    def encoded_body(self) -> bytes:
        """:meth:`body` encoded: the same bytes as ``dumps(self.body())``, made by filling the fixed parts of the
        body around its values when every choice is text without logprobs (the common reply)."""
        choices, request = self.choices, self.request
        prompt_tokens = request.prompt_tokens
        first = choices[0].generation
        if len(choices) == 1 and choices[0].logprobs_top is None and not first.tool_calls:  # the commonest
            template = _ONE_TEXT_CHOICE_BODIES.get(first.finish_reason)
            if template is not None:
                completion_tokens = first.completion_tokens
                return template % (
                    dumps(self.id),
                    self.created,
                    dumps(request.model),
                    dumps(first.text),
                    prompt_tokens,
                    completion_tokens,
                    prompt_tokens + completion_tokens,
                    _ENCODED_TIERS.get(request.service_tier) or dumps(request.service_tier),
                    dumps(self.fingerprint),
                )
        if any(choice.logprobs_top is not None or choice.generation.tool_calls for choice in choices):
            return dumps(self.body())
        completion_tokens = self.completion_tokens
        return _BODY % (
            dumps(self.id),
            self.created,
            dumps(request.model),
            b",".join(
                _TEXT_CHOICE % (choice.index, dumps(choice.generation.text), dumps(choice.generation.finish_reason))
                for choice in choices
            ),
            prompt_tokens,
            completion_tokens,
            prompt_tokens + completion_tokens,
            dumps(request.service_tier),
            dumps(self.fingerprint),
        )

    def chunk_events(self) -> Iterator[SSEEvent]:
        """Every ``chat.completion.chunk`` event, choices interleaved; the usage chunk last when asked for; made
        one at a time as they are taken.

        The fields every chunk repeats are encoded once: each event is that frame around its encoded choice."""
        frame = dumps(self._chunk([]))
        split = frame.rindex(_EMPTY_CHOICES) + len(_EMPTY_CHOICES) - 1
        head, tail = frame[:split], frame[split:]
        if len(self.choices) == 1 and self.choices[0].logprobs_top is None:
            # the common case, one chunk per token: the frame and the choice's fixed parts joined once
            choice = self.choices[0]
            yield SSEEvent(head + _opening_delta(choice) + tail)
            before = head + _CONTENT_BEFORE % choice.index
            after = _CONTENT_AFTER + tail
            for piece in choice.generation.iter_pieces():
                yield SSEEvent(before + dumps(piece) + after)
            for delta in _closing_deltas(choice):
                yield SSEEvent(head + delta + tail)
        else:
            per_choice = [iter_deltas(choice) for choice in self.choices]
            for round_ in zip_longest(*per_choice):
                for delta in round_:
                    if delta is not None:
                        yield SSEEvent(head + delta + tail)
        if self.request.include_usage:
            yield json_event({**self._chunk([]), "usage": self.usage()})

    def chunk_frames(self) -> Iterator[bytes]:
        """:meth:`chunk_events` encoded as SSE frames (the same bytes), made one at a time: what a stream sent as
        it is takes, one choice's content chunks each the piece between two fixed parts."""
        if len(self.choices) != 1 or self.choices[0].logprobs_top is not None:
            for event in self.chunk_events():
                yield event.encode()
            return
        frame = dumps(self._chunk([]))
        split = frame.rindex(_EMPTY_CHOICES) + len(_EMPTY_CHOICES) - 1
        head, tail = b"data: " + frame[:split], frame[split:] + b"\n\n"
        choice = self.choices[0]
        yield head + _opening_delta(choice) + tail
        before = head + _CONTENT_BEFORE % choice.index
        after = _CONTENT_AFTER + tail
        for piece in choice.generation.iter_pieces():
            yield before + dumps(piece) + after
        for delta in _closing_deltas(choice):
            yield head + delta + tail
        if self.request.include_usage:
            yield json_event({**self._chunk([]), "usage": self.usage()}).encode()

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


#: the fixed parts of :meth:`ChatReply.body` encoded, around its values (``%b``: encoded JSON)
_BODY = (
    b'{"id":%b,"object":"chat.completion","created":%d,"model":%b,"choices":[%b],'
    b'"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
    b'"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
    b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,'
    b'"rejected_prediction_tokens":0}},"service_tier":%b,"system_fingerprint":%b}'
)
#: one text choice without logprobs, encoded
_TEXT_CHOICE = (
    b'{"index":%d,"message":{"role":"assistant","content":%b,"refusal":null,"annotations":[]},'
    b'"logprobs":null,"finish_reason":%b}'
)
#: per finish reason of a text choice: :data:`_BODY` with :data:`_TEXT_CHOICE` as its only choice (the first, with
#: that finish reason)
_ONE_TEXT_CHOICE_BODIES = {
    reason: _BODY.replace(
        b"[%b]", b"[" + _TEXT_CHOICE.replace(b"%d", b"0", 1).replace(b":%b}", b":" + dumps(reason) + b"}", 1) + b"]", 1
    )
    for reason in ("stop", "length")
}
#: every service tier a reply may name, encoded
_ENCODED_TIERS = {tier: dumps(tier) for tier in SERVICE_TIERS}


def generate_choices(
    state: ServerState, request: ChatRequest, *, should_stop: Callable[[], bool] | None = None
) -> tuple[Generation, ...]:
    """Every choice's generation (consuming canned replies once per choice). ``should_stop`` is asked between
    choices (generation off the event loop gives up when the client has gone): :class:`GenerationStopped` then."""
    if not request.tools and request.json_schema is None:
        # plain text (the common request): no generation request to make per choice
        limit = request.output_limit
        if request.max_tokens is not None:
            limit = request.max_tokens if limit is None else min(request.max_tokens, limit)
        if request.n == 1 and should_stop is None:
            return (generate_text(state, request.prompt, request.key, 0, limit, request.stop),)
        texts = []
        for index in range(request.n):
            if should_stop is not None and should_stop():
                raise GenerationStopped
            texts.append(generate_text(state, request.prompt, request.key, index, limit, request.stop))
        return tuple(texts)
    generations = []
    for index in range(request.n):
        if should_stop is not None and should_stop():
            raise GenerationStopped
        generations.append(
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
                    output_limit=request.output_limit,
                ),
            )
        )
    return tuple(generations)


def plan_reply(
    state: ServerState, request: ChatRequest, generations: tuple[Generation, ...], fingerprint: str
) -> ChatReply:
    """The reply to ``request`` from its choices' generations: a fresh id and ``created``, logprobs drawn from the
    request's key."""
    top = request.top_logprobs if request.logprobs else None
    key = request.key
    if len(generations) == 1:
        choices: tuple[ChatChoice, ...] = (ChatChoice(0, generations[0], top, key),)
    else:
        choices = tuple(ChatChoice(index, generation, top, key) for index, generation in enumerate(generations))
    # by position: a struct takes them several times faster than by keyword
    return ChatReply(request, state.ids.new("chatcmpl-", 29), state.now(), fingerprint, choices)


def _choice_body(choice: ChatChoice) -> dict[str, Any]:
    generation = choice.generation
    message: dict[str, Any] = {"role": "assistant", "content": generation.text, "refusal": None, "annotations": []}
    if generation.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in generation.tool_calls
        ]
    logprobs = None
    if choice.logprobs_top is not None:
        content = list(choice.logprobs or ()) if generation.text is not None else None
        logprobs = {"content": content, "refusal": None}
    return {"index": choice.index, "message": message, "logprobs": logprobs, "finish_reason": generation.finish_reason}


def iter_deltas(choice: ChatChoice) -> Iterator[bytes]:
    """The encoded ``choices[0]`` of each chunk one choice streams, made as they are taken: role, content pieces,
    tool-call fragments, finish."""
    generation = choice.generation
    yield _opening_delta(choice)
    if choice.logprobs_top is None:
        # one chunk per token: only the piece changes from chunk to chunk
        before, after = _CONTENT_BEFORE % choice.index, _CONTENT_AFTER
        for piece in generation.iter_pieces():
            yield before + dumps(piece) + after
    else:
        for piece, logprob in zip(generation.iter_pieces(), choice.iter_logprobs(), strict=False):
            yield _delta(choice.index, {"content": piece}, logprobs={"content": [logprob], "refusal": None})
    yield from _closing_deltas(choice)


#: a content chunk's encoded choice is these around the encoded piece (the first takes the choice's index)
_CONTENT_BEFORE = b'{"index":%d,"delta":{"content":'
_CONTENT_AFTER = b'},"logprobs":null,"finish_reason":null}'


def _opening_delta(choice: ChatChoice) -> bytes:
    first_content = "" if choice.generation.text is not None else None
    return _delta(choice.index, {"role": "assistant", "content": first_content, "refusal": None})


def _closing_deltas(choice: ChatChoice) -> Iterator[bytes]:
    """After the content: the tool-call fragments, then the finish."""
    generation = choice.generation
    for call_index, call in enumerate(generation.tool_calls):
        opening = {
            "index": call_index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield _delta(choice.index, {"tool_calls": [opening]})
        for piece in call.iter_argument_pieces():
            yield _delta(choice.index, {"tool_calls": [{"index": call_index, "function": {"arguments": piece}}]})
    yield _delta(choice.index, {}, finish_reason=generation.finish_reason)


def _delta(
    index: int, delta: dict[str, Any], *, logprobs: dict[str, Any] | None = None, finish_reason: str | None = None
) -> bytes:
    return dumps({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason})
