"""Scripting the fake from Python, in respx's spirit::

    server.on(path="/v1/chat/completions").fail(429, retry_after_ms=20).times(2)
    server.on(path="/v1/chat/completions", stream=True).disconnect(after_events=3)
    server.on(path="/v1/chat/completions").sequence([fail(429), fail(500), "ok"])

``on(...)`` starts a :class:`RuleBuilder` for the matching requests; an action method registers the rule with
the server at once and returns a :class:`ScriptedRule`, which can still change its ``times``/``probability`` and
reports the requests it fired for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import faults
from .faults.engine import RuleEngine
from .faults.rules import Action, Match, PassAction, Rule, parse_action
from .state.journal import JournalEntry

__all__ = ["RuleBuilder", "ScriptedRule", "Step", "as_action"]

#: a step in a sequence of outcomes: an action value, its JSON shape, an HTTP status, or ``"ok"``/``None`` for
#: the real reply
Step = Action | dict[str, Any] | int | str | None


def as_action(outcome: Step) -> Action:
    if outcome is None or outcome == faults.OK:
        return PassAction()
    if isinstance(outcome, bool):
        raise TypeError(f"not an outcome: {outcome!r}")
    if isinstance(outcome, int):
        return faults.fail(outcome)
    if isinstance(outcome, str):
        raise ValueError(f"unknown outcome {outcome!r}; use 'ok', a status code or an action")
    return parse_action(outcome.model_dump() if not isinstance(outcome, dict) else outcome)


class ScriptedRule:
    """A rule registered by the builder: change it, or ask which requests it fired for."""

    def __init__(self, rule_id: str, engine: RuleEngine, journal: Callable[[], list[JournalEntry]]) -> None:
        self.id = rule_id
        self._engine = engine
        self._journal = journal

    def __repr__(self) -> str:
        return f"<ScriptedRule {self.id}>"

    def times(self, count: int) -> ScriptedRule:
        """Fire for the next ``count`` matching requests only."""
        self._engine.update(self.id, times=count)
        return self

    def probability(self, chance: float) -> ScriptedRule:
        """Fire for a matching request with this chance (seeded draw)."""
        self._engine.update(self.id, probability=chance)
        return self

    @property
    def remaining(self) -> int | None:
        """Uses left (``None`` = forever, ``0`` = spent or removed)."""
        for active in self._engine.rules():
            if active.id == self.id:
                return active.remaining
        return 0

    @property
    def calls(self) -> list[JournalEntry]:
        """The journal entries of the requests this rule fired for."""
        return [entry for entry in self._journal() if entry.rule_id == self.id]

    @property
    def last(self) -> JournalEntry | None:
        """The newest request this rule fired for."""
        calls = self.calls
        return calls[-1] if calls else None

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def remove(self) -> None:
        self._engine.remove(self.id)


class RuleBuilder:
    """The match half of a rule; an action method finishes it and registers it."""

    def __init__(self, match: Match, engine: RuleEngine, journal: Callable[[], list[JournalEntry]]) -> None:
        self._match = match
        self._engine = engine
        self._journal = journal
        self._times: int | None = None
        self._probability = 1.0

    def times(self, count: int) -> RuleBuilder:
        """The rule applies to the next ``count`` matching requests (default: forever)."""
        self._times = count
        return self

    def probability(self, chance: float) -> RuleBuilder:
        self._probability = chance
        return self

    def then(self, outcome: Step) -> ScriptedRule:
        """Register the rule with ``outcome`` as its action."""
        rule = Rule(match=self._match, action=as_action(outcome), times=self._times, probability=self._probability)
        (rule_id,) = self._engine.add([rule])
        return ScriptedRule(rule_id, self._engine, self._journal)

    def sequence(self, outcomes: Iterable[Step]) -> list[ScriptedRule]:
        """One outcome per matching request, in order (``"ok"`` = the real reply); after the last, requests are
        answered normally again."""
        rules = [
            Rule(match=self._match, action=as_action(outcome), times=1, probability=self._probability)
            for outcome in outcomes
        ]
        return [ScriptedRule(rule_id, self._engine, self._journal) for rule_id in self._engine.add(rules)]

    def fail(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        should_retry: bool | None = None,
        headers: dict[str, str] | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> ScriptedRule:
        return self.then(
            faults.fail(
                status,
                retry_after=retry_after,
                retry_after_ms=retry_after_ms,
                should_retry=should_retry,
                headers=headers,
                message=message,
                code=code,
            )
        )

    def rate_limit(self, kind: str = "requests", *, retry_after: float = 1.0) -> ScriptedRule:
        return self.then(faults.rate_limit(kind, retry_after=retry_after))

    def latency(self, ttft: Any = None, itl: Any = None) -> ScriptedRule:
        return self.then(faults.latency(ttft, itl))

    def hang(self) -> ScriptedRule:
        return self.then(faults.hang())

    def reset(self) -> ScriptedRule:
        return self.then(faults.reset())

    def empty(self) -> ScriptedRule:
        return self.then(faults.empty())

    def disconnect(self, after_events: int = 0) -> ScriptedRule:
        return self.then(faults.disconnect(after_events))

    def truncate(self) -> ScriptedRule:
        return self.then(faults.truncate())

    def malformed(self, after_events: int = 1) -> ScriptedRule:
        return self.then(faults.malformed(after_events))

    def stream_error(
        self, after_events: int = 1, *, message: str | None = None, code: str | None = None
    ) -> ScriptedRule:
        return self.then(faults.stream_error(after_events, message=message, code=code))

    def passthrough(self) -> ScriptedRule:
        return self.then(faults.passthrough())
