"""The content engine behind chat completions, legacy completions and the Responses API.

``generate(state, request)`` decides what the model "says" for one choice, first match wins:

1. a canned reply, if one is queued (consumed: one per choice);
2. tool calls, if tools are offered and ``tool_choice`` asks for one (``"required"``, a tool's name), or is
   ``"auto"`` and the prompt names a tool (or, rarely, the RNG decides to); arguments fit each tool's schema;
3. JSON that validates against ``json_schema`` (structured outputs; ``{}`` for JSON mode);
4. the prompt itself, in ``mode: echo``;
5. English-like sentences of ``min_reply_tokens..max_reply_tokens`` tokens.

Everything random is drawn from ``(config.seed, request.key, choice_index)`` (an RNG seeded by it; plain text from
the precomputed sentences of :mod:`.sentences`, whose pieces are known), so the same seed and request always give
the same reply, streamed or not. ``stop`` then cuts text before the first stop sequence
and the output limit (``max_tokens``, else the model's ``output_limit``) cuts text or tool arguments
(``finish_reason: "length"``), the way OpenAI does.

Generation is linear in the request and bounded by the limit whatever the schema asks for: nothing is made past
what the limit can show (a token is at most :data:`~.tokenizer.LONGEST_PIECE` characters, so ``limit + 2`` times
that many characters always hold more than ``limit`` tokens), and a reply keeps its text, not a piece per token
(:attr:`Generation.pieces` splits it when asked; :meth:`Generation.iter_pieces` one piece at a time).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from .schema_values import value_for_schema
from .sentences import reply_text
from .tokenizer import LONGEST_PIECE, count_tokens, iter_tokens, split_tokens

if TYPE_CHECKING:
    from ..config.settings import CannedReply
    from ..state.server_state import ServerState

__all__ = [
    "AUTO_TOOL_CALL_CHANCE",
    "Generation",
    "GenerationRequest",
    "PlannedToolCall",
    "ToolSpec",
    "char_budget",
    "generate",
    "generate_text",
]

#: how often ``tool_choice: "auto"`` calls a tool when the prompt names none of them
AUTO_TOOL_CALL_CHANCE = 0.25
_ALNUM = string.ascii_letters + string.digits


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

    def iter_argument_pieces(self) -> Iterator[str]:
        """:meth:`argument_pieces` one at a time, without holding them all."""
        return iter_tokens(self.arguments)


# a msgspec struct rather than a frozen dataclass: as immutable, and many times faster to make (one is made for
# every choice of every request)
class Generation(msgspec.Struct, frozen=True):
    #: ``None`` when the reply is tool calls only
    text: str | None
    #: the pieces a canned reply gave (their join is ``text``); ``None``: ``text`` split by the tokenizer
    given_pieces: tuple[str, ...] | None
    tool_calls: tuple[PlannedToolCall, ...]
    #: ``"stop"``, ``"length"`` or ``"tool_calls"``
    finish_reason: str
    completion_tokens: int

    @property
    def pieces(self) -> tuple[str, ...]:
        """``text`` as token pieces: ``"".join(pieces) == (text or "")`` (made on each call: keep it short-lived)."""
        if self.given_pieces is not None:
            return self.given_pieces
        return tuple(split_tokens(self.text or ""))

    def iter_pieces(self) -> Iterator[str]:
        """:attr:`pieces` one at a time, without holding them all."""
        if self.given_pieces is not None:
            return iter(self.given_pieces)
        return iter_tokens(self.text or "")


class GenerationRequest(msgspec.Struct, frozen=True):
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
    #: the model's output limit in tokens, which cuts a reply when ``max_tokens`` does not (``None``: no limit)
    output_limit: int | None = None

    @property
    def limit(self) -> int | None:
        """The tokens a reply may hold: the smaller of ``max_tokens`` and ``output_limit``."""
        if self.max_tokens is None:
            return self.output_limit
        return self.max_tokens if self.output_limit is None else min(self.max_tokens, self.output_limit)


def char_budget(limit: int | None) -> int | None:
    """Characters enough to hold more than ``limit`` tokens, so text made up to it cuts exactly as the whole
    would (the first ``limit`` pieces of a prefix this long are the whole text's)."""
    return None if limit is None else (limit + 2) * LONGEST_PIECE


def generate(state: ServerState, request: GenerationRequest, *, consume_canned: bool = True) -> Generation:
    """The reply for one choice of ``request``; consumes one canned reply from ``state`` if any is queued.

    With ``consume_canned=False`` the queue is left alone and the reply is a pure function of ``state.config``
    and ``request`` (callers may then keep it)."""
    return _generate(state, request, state.next_reply() if consume_canned else None)


def generate_text(
    state: ServerState, prompt: str, key: bytes, choice_index: int, limit: int | None, stop: tuple[str, ...]
) -> Generation:
    """What :func:`generate` gives a request without tools or a schema (``GenerationRequest(prompt, key,
    choice_index, max_tokens=limit, stop=stop)``), without making the request: sentences from the pool straight
    away when no canned reply is queued and the mode is not echo (the common chat request). Consumes a canned
    reply as :func:`generate` does."""
    canned = state.next_reply()
    config = state.config
    if canned is not None or config.mode == "echo":
        return _generate(state, GenerationRequest(prompt, key, choice_index, max_tokens=limit, stop=stop), canned)
    # as in :func:`_generate`: the first ``limit + 3`` pieces are all a cut reply can show
    text, pieces = reply_text(
        _seed_material(config.seed, choice_index, key),
        config.min_reply_tokens,
        config.max_reply_tokens,
        most=None if limit is None else limit + 3,
    )
    return _pieces_generation(text, pieces, limit, stop)


def _generate(state: ServerState, request: GenerationRequest, canned: CannedReply | None) -> Generation:
    """:func:`generate` with the canned reply (if any) already taken from the queue."""
    material = _seed_material(state.config.seed, request.choice_index, request.key)
    limit = request.limit
    budget = char_budget(limit)
    if canned is not None:
        return _from_canned(canned, request, _rng(material))
    tools: list[ToolSpec] = []
    rng: random.Random | None = None
    if request.tools and request.tool_choice != "none":
        rng = _rng(material)
        tools = _tools_to_call(request, rng)
    if tools:
        assert rng is not None
        calls = [PlannedToolCall(_call_id(rng), tool.name, _arguments(tool, rng, budget)) for tool in tools]
        return _tool_generation(calls, limit)
    if request.json_schema is not None:
        value = value_for_schema(request.json_schema, rng or _rng(material), budget=budget)
        return _text_generation(json.dumps(value, separators=(",", ":"), ensure_ascii=False), limit, request.stop)
    if state.config.mode == "echo":
        return _text_generation(request.prompt, limit, request.stop)
    # the first ``limit + 3`` pieces are all a cut reply can show (a stop sequence may span the last ones)
    text, pieces = reply_text(
        material,
        state.config.min_reply_tokens,
        state.config.max_reply_tokens,
        most=None if limit is None else limit + 3,
        leading_space=request.continuation,
    )
    return _pieces_generation(text, pieces, limit, request.stop)


def _seed_material(config_seed: int, choice_index: int, key: bytes) -> bytes:
    """What every draw for one choice is seeded from: the config's seed, the choice and the request's key."""
    # (one bytes formatting: ``f"{config_seed}:{choice_index}:".encode() + key``, in one step)
    return b"%d:%d:%b" % (config_seed, choice_index, key)


def _rng(material: bytes) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(material).digest()[:16], "big"))


def _from_canned(canned: CannedReply, request: GenerationRequest, rng: random.Random) -> Generation:
    if canned.tool_calls:
        calls = [
            PlannedToolCall(
                _call_id(rng),
                call.name,
                _clipped(
                    call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments, ensure_ascii=False),
                    char_budget(request.limit),
                ),
            )
            for call in canned.tool_calls
        ]
        return _tool_generation(calls, request.limit)
    if canned.pieces is not None:
        return _chunked_generation(canned.pieces, request.limit, request.stop)
    return _text_generation(canned.content or "", request.limit, request.stop)


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


def _arguments(tool: ToolSpec, rng: random.Random, budget: int | None) -> str:
    schema = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
    return json.dumps(value_for_schema(schema, rng, budget=budget), ensure_ascii=False)


def _clipped(text: str, budget: int | None) -> str:
    """``text``, or as much of it as the limit can show (so a huge canned reply costs no more than a short one)."""
    return text if budget is None or len(text) <= budget else text[:budget]


def _tool_generation(calls: list[PlannedToolCall], limit: int | None) -> Generation:
    """Tool calls, each costing its name and arguments in tokens; the limit cuts the arguments short, as a model
    stopped mid-call sends them: the JSON text up to the last whole token."""
    kept: list[PlannedToolCall] = []
    used = 0
    for call in calls:
        name_cost = count_tokens(call.name)
        if limit is not None and used + name_cost + count_tokens(call.arguments) > limit:
            room = limit - used - name_cost
            if room >= 0:  # the name fits (a model stopped within the name has made no call)
                pieces = split_tokens(call.arguments)
                kept.append(PlannedToolCall(call.id, call.name, "".join(pieces[:room])))
            return Generation(None, None, tuple(kept), "length", limit)
        kept.append(call)
        used += name_cost + count_tokens(call.arguments)
    return Generation(None, None, tuple(kept), "tool_calls", used)


def _stop_cut(text: str, stop: tuple[str, ...]) -> int:
    """Where the first stop sequence starts in ``text``, or -1."""
    if not stop:
        return -1
    return min((found for sequence in stop if sequence and (found := text.find(sequence)) >= 0), default=-1)


def _text_generation(
    text: str, limit: int | None, stop: tuple[str, ...], *, known_tokens: int | None = None
) -> Generation:
    """``text``, cut before the first stop sequence, then to the limit. ``known_tokens``: how many pieces
    ``text`` splits into, when the caller knows (it then is not split at all when it fits)."""
    text = _clipped(text, char_budget(limit))
    cut = _stop_cut(text, stop)
    if cut >= 0:
        text, known_tokens = text[:cut], None
    tokens = known_tokens if known_tokens is not None else count_tokens(text)
    if limit is not None and tokens > limit:
        return Generation("".join(split_tokens(text)[:limit]), None, (), "length", limit)
    return Generation(text, None, (), "stop", tokens)


def _pieces_generation(text: str, pieces: tuple[str, ...], limit: int | None, stop: tuple[str, ...]) -> Generation:
    """``text`` of known token ``pieces`` (their join), cut like :func:`_text_generation` (without splitting it
    again)."""
    if stop and _stop_cut(text, stop) >= 0:
        return _text_generation(text, limit, stop)
    if limit is not None and len(pieces) > limit:
        kept = pieces[:limit]
        return Generation("".join(kept), kept, (), "length", limit)
    return Generation(text, pieces, (), "stop", len(pieces))


def _chunked_generation(chunks: tuple[str, ...], limit: int | None, stop: tuple[str, ...]) -> Generation:
    """A canned reply's own chunks, cut like :func:`_text_generation` (a chunk counts as one token)."""
    kept = list(chunks if limit is None else chunks[: limit + 1])
    text = "".join(kept)
    cut = _stop_cut(text, stop)
    if cut >= 0:
        kept = split_tokens(text[:cut])
    if limit is not None and len(kept) > limit:
        kept = kept[:limit]
        return Generation("".join(kept), tuple(kept), (), "length", limit)
    return Generation("".join(kept), tuple(kept), (), "stop", len(kept))
