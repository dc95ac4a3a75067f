"""The content engine behind chat completions, legacy completions and the Responses API.

``generate(state, request)`` decides what the model "says" for one choice, first match wins:

1. a canned reply, if one is queued (consumed: one per choice);
2. tool calls, if tools are offered and ``tool_choice`` asks for one (``"required"``, a tool's name), or is
   ``"auto"`` and the prompt names a tool (or, rarely, the RNG decides to); arguments fit each tool's schema;
3. JSON that validates against ``json_schema`` (structured outputs; ``{}`` for JSON mode);
4. the prompt itself, in ``mode: echo``;
5. English-like sentences of ``min_reply_tokens..max_reply_tokens`` tokens.

Everything random is drawn from an RNG seeded by ``(config.seed, request.key, choice_index)``, so the same seed
and request always give the same reply, streamed or not. ``stop`` then cuts text before the first stop sequence
and ``max_tokens`` cuts text or tool arguments (``finish_reason: "length"``), the way OpenAI does.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .schema_values import value_for_schema
from .tokenizer import count_tokens, split_tokens

if TYPE_CHECKING:
    from ..config.settings import CannedReply
    from ..state.server_state import ServerState

__all__ = [
    "AUTO_TOOL_CALL_CHANCE",
    "Generation",
    "GenerationRequest",
    "PlannedToolCall",
    "ToolSpec",
    "generate",
]

#: how often ``tool_choice: "auto"`` calls a tool when the prompt names none of them
AUTO_TOOL_CALL_CHANCE = 0.25
_ALNUM = string.ascii_letters + string.digits
_WORDS = (
    "the", "a", "model", "answer", "data", "simple", "clear", "result", "question", "system", "we", "can",
    "this", "that", "is", "are", "will", "should", "test", "value", "quick", "small", "light", "stream",
    "token", "reply", "request", "server", "client", "time", "every", "each", "some", "more", "first",
    "next", "good", "useful", "future", "world", "idea", "shows", "makes", "gives", "takes", "works",
    "helps", "brings", "always", "often", "here", "there", "with", "from", "into", "about", "over",
)  # fmt: skip
_WORD_COUNT = len(_WORDS)
_WORD_BITS = _WORD_COUNT.bit_length()
_SPACED = tuple(" " + word for word in _WORDS)
_CAPITALIZED = tuple(word.capitalize() for word in _WORDS)
_SPACED_CAPITALIZED = tuple(" " + word for word in _CAPITALIZED)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call: its name and the JSON schema of its arguments."""

    name: str
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PlannedToolCall:
    #: ``"call_"`` + 24 alphanumerics
    id: str
    name: str
    #: JSON text valid for the tool's parameters schema (possibly cut short by ``max_tokens``)
    arguments: str

    def argument_pieces(self) -> tuple[str, ...]:
        """The arguments as token pieces, for streaming them fragment by fragment."""
        return tuple(split_tokens(self.arguments))


@dataclass(frozen=True, slots=True)
class Generation:
    #: ``None`` when the reply is tool calls only
    text: str | None
    #: ``text`` split into token pieces: ``"".join(pieces) == (text or "")``
    pieces: tuple[str, ...]
    tool_calls: tuple[PlannedToolCall, ...]
    #: ``"stop"``, ``"length"`` or ``"tool_calls"``
    finish_reason: str
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    #: the text the reply is about (the last user message, or the prompt)
    prompt: str
    #: canonical bytes of the request WITHOUT stream/stream_options: the same key gives the same reply
    key: bytes
    choice_index: int = 0
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    #: ``"none"``, ``"auto"``, ``"required"``, or the name of the tool that must be called
    tool_choice: str = "auto"
    #: the schema replies must validate against (``response_format`` json_schema); ``{}`` for json_object
    json_schema: dict[str, Any] | None = None
    #: generated text continues the prompt (legacy completions): it starts with a space
    continuation: bool = False
    #: ``False``: at most one tool call per reply
    parallel_tool_calls: bool = True


def generate(state: ServerState, request: GenerationRequest, *, consume_canned: bool = True) -> Generation:
    """The reply for one choice of ``request``; consumes one canned reply from ``state`` if any is queued.

    With ``consume_canned=False`` the queue is left alone and the reply is a pure function of ``state.config``
    and ``request`` (callers may then keep it)."""
    rng = random.Random(_seed(state.config.seed, request))
    canned = state.next_reply() if consume_canned else None
    if canned is not None:
        return _from_canned(canned, request, rng)
    tools = _tools_to_call(request, rng)
    if tools:
        calls = [PlannedToolCall(_call_id(rng), tool.name, _arguments(tool, rng)) for tool in tools]
        return _tool_generation(calls, request.max_tokens)
    if request.json_schema is not None:
        text = json.dumps(value_for_schema(request.json_schema, rng), separators=(",", ":"), ensure_ascii=False)
        return _text_generation(split_tokens(text), request)
    if state.config.mode == "echo":
        return _text_generation(split_tokens(request.prompt), request)
    low = state.config.min_reply_tokens
    high = max(low, state.config.max_reply_tokens)
    pieces = _sentence_pieces(rng, rng.randint(low, high), leading_space=request.continuation)
    return _text_generation(pieces, request)


def _seed(config_seed: int, request: GenerationRequest) -> int:
    digest = hashlib.sha256(f"{config_seed}:{request.choice_index}:".encode() + request.key).digest()
    return int.from_bytes(digest[:16], "big")


def _from_canned(canned: CannedReply, request: GenerationRequest, rng: random.Random) -> Generation:
    if canned.tool_calls:
        calls = [
            PlannedToolCall(
                _call_id(rng),
                call.name,
                call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments, ensure_ascii=False),
            )
            for call in canned.tool_calls
        ]
        return _tool_generation(calls, request.max_tokens)
    if canned.pieces is not None:
        return _text_generation(list(canned.pieces), request)
    return _text_generation(split_tokens(canned.content or ""), request)


def _tools_to_call(request: GenerationRequest, rng: random.Random) -> list[ToolSpec]:
    choice = request.tool_choice
    if not request.tools or choice == "none":
        return []
    if choice not in ("auto", "required"):
        return [tool for tool in request.tools if tool.name == choice][:1]
    mentioned = [tool for tool in request.tools if _mentions(request.prompt, tool.name)]
    if mentioned:
        return mentioned if request.parallel_tool_calls else mentioned[:1]
    if choice == "required" or rng.random() < AUTO_TOOL_CALL_CHANCE:
        return [rng.choice(request.tools)]
    return []


def _mentions(prompt: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", prompt, re.IGNORECASE) is not None


def _call_id(rng: random.Random) -> str:
    return "call_" + "".join(rng.choices(_ALNUM, k=24))


def _arguments(tool: ToolSpec, rng: random.Random) -> str:
    schema = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
    return json.dumps(value_for_schema(schema, rng), ensure_ascii=False)


def _tool_generation(calls: list[PlannedToolCall], max_tokens: int | None) -> Generation:
    """Tool calls, each costing its name and arguments in tokens; ``max_tokens`` cuts the arguments short."""
    budget = max_tokens
    kept: list[PlannedToolCall] = []
    used = 0
    for call in calls:
        pieces = split_tokens(call.arguments)
        cost = count_tokens(call.name) + len(pieces)
        if budget is not None and used + cost > budget:
            room = max(budget - used - count_tokens(call.name), 0)
            if used < budget:
                kept.append(PlannedToolCall(call.id, call.name, "".join(pieces[:room])))
            return Generation(None, (), tuple(kept), "length", budget)
        kept.append(call)
        used += cost
    return Generation(None, (), tuple(kept), "tool_calls", used)


def _text_generation(pieces: list[str], request: GenerationRequest) -> Generation:
    """Text from ``pieces``, cut before the first stop sequence, then to ``max_tokens``."""
    text = "".join(pieces)
    cut = min((found for stop in request.stop if stop and (found := text.find(stop)) >= 0), default=-1)
    if cut >= 0:
        pieces = split_tokens(text[:cut])
    finish_reason = "stop"
    if request.max_tokens is not None and len(pieces) > request.max_tokens:
        pieces = pieces[: request.max_tokens]
        finish_reason = "length"
    return Generation("".join(pieces), tuple(pieces), (), finish_reason, len(pieces))


def _sentence_pieces(rng: random.Random, length: int, *, leading_space: bool = False) -> list[str]:
    """Exactly ``length`` pieces of English-like sentences, each word and each mark one piece.

    Long replies run this per token, so the words come from precomputed forms (capitalized, with a leading space)
    and a word is drawn inline exactly as ``rng.choice(_WORDS)`` draws it (``getrandbits`` until below the count),
    so a seed gives the same text as ever."""
    bits, draw = rng.getrandbits, rng.random
    pieces: list[str] = []
    append = pieces.append
    count = 0
    after_word = False
    sentence_start = True
    words_in_sentence = 0
    while count < length:
        remaining = length - count
        count += 1
        if remaining == 1 or (after_word and remaining > 2 and words_in_sentence >= 4 and draw() < 0.15):
            append(".")
            after_word, sentence_start, words_in_sentence = False, True, 0
            continue
        if after_word and words_in_sentence >= 3 and remaining > 2 and draw() < 0.08:
            append(",")
            after_word = False
            continue
        index = bits(_WORD_BITS)
        while index >= _WORD_COUNT:
            index = bits(_WORD_BITS)
        bare = count == 1 and not leading_space
        forms = (_CAPITALIZED if bare else _SPACED_CAPITALIZED) if sentence_start else (_WORDS if bare else _SPACED)
        append(forms[index])
        after_word, sentence_start = True, False
        words_in_sentence += 1
    return pieces
