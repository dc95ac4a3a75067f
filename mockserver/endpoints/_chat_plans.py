"""A bounded memo of the part of answering a chat request that depends only on the request and the config.

Checking a request field by field and generating its choices cost more than all the rest of a request, and test
suites and load generators send the same bodies again and again. With no canned reply queued, both are a pure
function of the body's bytes and the server's config (the generation RNG is seeded from the config's seed and the
request), so they are kept per exact body for as long as ``state.config`` is the same (frozen) object. What
differs per request (the id, ``created``) or is state (canned replies, stored completions) is never kept, nor is
a request that fails its checks; logprobs are cheap and made afresh. Nor is a plan whose replies are long: the
memo holds at most ``PLANS_KEPT`` plans of at most ``LARGEST_KEPT_TOKENS`` tokens each.

Generation that could hold the event loop (many choices, a schema or tools, a long limit) runs in a worker thread
(:mod:`._offload`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config.settings import ServerConfig
from ..content.generation import Generation
from ..state.server_state import ServerState
from ._chat_reply import ChatChoice, encoded_deltas, generate_choices
from ._chat_request import ChatRequest, parse_chat_request
from ._generation_fields import system_fingerprint
from ._offload import HEAVY_TOKENS, off_the_loop

__all__ = ["ChatPlan", "ChatPlans"]

#: bodies kept at most (the oldest goes first)
PLANS_KEPT = 256
#: larger bodies are answered afresh every time, so the memo stays small
LARGEST_KEPT_BODY = 16 * 1024
#: plans whose choices hold more tokens than this in all are not kept (nor are their encoded stream deltas)
LARGEST_KEPT_TOKENS = 4096


@dataclass(slots=True)
class ChatPlan:
    """What every reply to one body shares. Never changed, except to keep its stream deltas once made."""

    request: ChatRequest
    generations: tuple[Generation, ...]
    fingerprint: str
    #: whether the memo keeps the plan (then its stream deltas are kept too, once made)
    kept: bool = False
    _deltas: tuple[tuple[bytes, ...], ...] | None = None

    def stream_deltas(self, choices: Sequence[ChatChoice]) -> tuple[tuple[bytes, ...], ...] | None:
        """:func:`encoded_deltas` of ``choices`` (the choices of a reply made from this plan, which are the same
        for every such reply: logprobs are drawn from the request's key), made once; ``None`` for a plan the memo
        does not keep (its stream is encoded as it is sent)."""
        if not self.kept:
            return None
        if self._deltas is None:
            self._deltas = encoded_deltas(choices)
        return self._deltas


class ChatPlans:
    """Raw body -> :class:`ChatPlan`, for one config at a time; lives with the app's chat route."""

    def __init__(self, size: int = PLANS_KEPT) -> None:
        self._size = size
        self._config: ServerConfig | None = None
        self._plans: dict[bytes, ChatPlan] = {}

    def __len__(self) -> int:
        return len(self._plans)

    async def plan(self, raw: bytes, body: dict[str, object], state: ServerState) -> ChatPlan:
        """The checked request and its generated choices; raises the request's 4xx like ``parse_chat_request``."""
        if state.replies or not raw or len(raw) > LARGEST_KEPT_BODY:  # afresh (no bytes to key on: a made-up Call)
            request = parse_chat_request(body, state)
            generations = await _generate(state, request, consume_canned=True)
            return ChatPlan(request, generations, system_fingerprint(state, request.model))
        if state.config is not self._config:
            self._plans.clear()
            self._config = state.config
        plan = self._plans.get(raw)
        if plan is None:
            request = parse_chat_request(body, state)
            generations = await _generate(state, request, consume_canned=False)
            keep = sum(generation.completion_tokens for generation in generations) <= LARGEST_KEPT_TOKENS
            plan = ChatPlan(request, generations, system_fingerprint(state, request.model), kept=keep)
            if keep and state.config is self._config:
                if len(self._plans) >= self._size:
                    del self._plans[next(iter(self._plans))]
                self._plans[raw] = plan
        return plan


def expected_tokens(state: ServerState, request: ChatRequest) -> int:
    """At most how many tokens generating ``request``'s choices makes (a bound, to choose where it runs)."""
    limit = request.max_tokens if request.max_tokens is not None else (request.output_limit or HEAVY_TOKENS + 1)
    unbounded_content = (
        (request.tools and request.tool_choice != "none")
        or request.json_schema is not None
        or state.config.mode == "echo"
    )
    per_choice = limit if unbounded_content else min(limit, state.config.max_reply_tokens)
    return per_choice * request.n


async def _generate(state: ServerState, request: ChatRequest, *, consume_canned: bool) -> tuple[Generation, ...]:
    if expected_tokens(state, request) <= HEAVY_TOKENS:
        return generate_choices(state, request, consume_canned=consume_canned)
    return await off_the_loop(
        lambda should_stop: generate_choices(state, request, consume_canned=consume_canned, should_stop=should_stop),
        state.stopping,
    )
