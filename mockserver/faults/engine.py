"""The rule registry: rules in order, their remaining uses, and the seeded draw for probabilities.

Tests script the server from their own thread while it serves requests on another, so every method takes
the lock. ``select`` is the only place a rule is chosen for a request.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .rules import Action, Match, Rule, RuleError

__all__ = ["ActiveRule", "RequestFacts", "RuleEngine", "Selection"]


# a value, never changed once made; not ``frozen`` only because that makes it several times slower to create
# (one or more are made for every request)
@dataclass(slots=True)
class RequestFacts:
    """What a rule can match on."""

    method: str
    path: str
    #: lowercased names
    headers: Mapping[str, str]
    #: the parsed JSON body, or ``None``
    body: Any
    #: an Azure deployment named in the URL: the request's model (whatever the body says)
    deployment: str | None = None

    @property
    def model(self) -> str | None:
        if self.deployment is not None:
            return self.deployment
        value = self.body.get("model") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


@dataclass(frozen=True, slots=True)
class Selection:
    """The rule that fired for a request."""

    rule_id: str
    action: Action


@dataclass(frozen=True, slots=True)
class ActiveRule:
    """A registered rule as the control API reports it."""

    id: str
    rule: Rule
    #: uses left; ``None`` = forever
    remaining: int | None
    #: how many requests it fired for
    hits: int

    def to_json(self) -> dict[str, Any]:
        return {
            **self.rule.model_dump(mode="json", exclude_none=True),
            "id": self.id,
            "remaining": self.remaining,
            "hits": self.hits,
        }


@dataclass(slots=True)
class _Slot:
    id: str
    rule: Rule
    remaining: int | None
    hits: int = 0


def matches(match: Match, facts: RequestFacts) -> bool:
    if match.method is not None and match.method != facts.method.upper():
        return False
    if match.path is not None and not _path_matches(match.path, facts.path):
        return False
    if match.model is not None and match.model != facts.model:
        return False
    if match.stream is not None and match.stream != facts.stream:
        return False
    if match.header is not None:
        return all(facts.headers.get(name) == value for name, value in match.header.items())
    return True


def _path_matches(pattern: str, path: str) -> bool:
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatch.fnmatchcase(path, pattern)
    return pattern.rstrip("/") == path.rstrip("/")


class RuleEngine:
    """Ordered rules with use counts; thread-safe."""

    def __init__(self, seed: int = 0, *, max_rules: int | None = None) -> None:
        self._lock = threading.Lock()
        #: rules kept at most (``None``: no cap); adding past it is refused
        self.max_rules = max_rules
        self._slots: list[_Slot] = []
        self._counter = 0
        self._rng = random.Random(f"rules:{seed}")

    def reset(self, rules: Iterable[Rule], *, seed: int) -> None:
        """Replace every rule with ``rules`` (with fresh counts) and reseed the draw."""
        with self._lock:
            self._slots = []
            self._counter = 0
            self._rng = random.Random(f"rules:{seed}")
            self._add_locked(tuple(rules), capped=False)  # the config's own rules are always in force

    def add(self, rules: Iterable[Rule]) -> list[str]:
        """Append ``rules`` (all or none); returns their ids."""
        with self._lock:
            return self._add_locked(tuple(rules))

    def _add_locked(self, rules: tuple[Rule, ...], *, capped: bool = True) -> list[str]:
        if capped and self.max_rules is not None and len(self._slots) + len(rules) > self.max_rules:
            raise RuleError(
                f"rules: at most {self.max_rules} rules may be in force (config max_rules); "
                f"{len(self._slots)} are, and {len(rules)} more were given"
            )
        taken = {slot.id for slot in self._slots}
        ids: list[str] = []
        for rule in rules:
            if rule.id is not None:
                if rule.id in taken:
                    raise RuleError(f"id: a rule with id {rule.id!r} already exists")
                taken.add(rule.id)
            ids.append(rule.id if rule.id is not None else "")
        # ``taken`` now holds every id in force and given: fresh ids avoid them all, in one pass
        for index, rule in enumerate(rules):
            if not ids[index]:
                ids[index] = self._fresh_id_locked(taken)
                taken.add(ids[index])
            self._slots.append(_Slot(ids[index], rule, rule.times))
        return ids

    def _fresh_id_locked(self, taken: set[str]) -> str:
        while True:
            self._counter += 1
            candidate = f"rule_{self._counter}"
            if candidate not in taken:
                return candidate

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._slots)
            self._slots = [slot for slot in self._slots if slot.id != rule_id]
            return len(self._slots) != before

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        with self._lock:
            count = len(self._slots)
            self._slots = []
            return count

    def update(self, rule_id: str, *, times: int | None = None, probability: float | None = None) -> None:
        """Change the count (from now on) or probability of a registered rule."""
        with self._lock:
            for slot in self._slots:
                if slot.id == rule_id:
                    changes: dict[str, Any] = {}
                    if times is not None:
                        changes["times"] = times
                        slot.remaining = times
                    if probability is not None:
                        changes["probability"] = probability
                    slot.rule = Rule.model_validate({**slot.rule.model_dump(), **changes})
                    return
        raise KeyError(rule_id)

    @property
    def in_force(self) -> bool:
        """Whether any rule is registered (a look without the lock: a rule added meanwhile may not show)."""
        return bool(self._slots)

    def rules(self) -> list[ActiveRule]:
        with self._lock:
            return [ActiveRule(slot.id, slot.rule, slot.remaining, slot.hits) for slot in self._slots]

    def select(self, facts: RequestFacts) -> Selection | None:
        """The first live rule that matches ``facts`` and wins its draw; uses one of its ``times``."""
        with self._lock:
            for slot in self._slots:
                if slot.remaining == 0 or not matches(slot.rule.match, facts):
                    continue
                if slot.rule.probability < 1.0 and self._rng.random() >= slot.rule.probability:
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                slot.hits += 1
                return Selection(slot.id, slot.rule.action)
            return None
