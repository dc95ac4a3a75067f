"""The fault rules on Redis: the same :class:`~mockserver.faults.engine.RuleEngine` API (rules in order, their
remaining uses and hits), with every count kept in Redis so a rule with ``times: 2`` fires twice across all
workers and hosts.

A worker keeps a copy of the rules (their match and action) tagged with the version Redis holds; choosing a rule
for a request is one script call that checks the version, and among the rules that match (by today's
``matches``) and won their probability draw, uses one of the first live one's ``times``. When another worker
changed the rules, the script says so and the copy is read again first. Probability draws come from each
worker's own seeded generator (they are not shared).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import redis
from redis.exceptions import ResponseError

from ...faults.engine import ActiveRule, RequestFacts, RuleEngine, Selection, matches
from ...faults.rules import Rule, RuleError
from . import scripts
from .connection import LoopClients, RedisLocation, StateUnavailable, unavailable

__all__ = ["SharedRuleEngine"]


class SharedRuleEngine(RuleEngine):
    """Rules whose counts live in Redis; the control methods block (any thread), :meth:`select_shared` is for
    the server's loop."""

    def __init__(
        self,
        location: RedisLocation,
        sync: redis.Redis,
        clients: LoopClients,
        *,
        seed: int,
        salt: str,
        max_rules: int | None,
    ) -> None:
        super().__init__(seed, max_rules=max_rules)
        self._salt = salt
        self._reseed(seed)
        names = ("order", "spec", "remaining", "hits", "version", "counter")
        #: the rules' keys, in the order the scripts take them
        self._keys = [location.key("rules", name) for name in names]
        self._order_key, self._spec_key, self._remaining_key, self._hits_key, self._version_key, _ = self._keys
        self._replies_key = location.key("replies")
        self._sync = sync
        self._add = sync.register_script(scripts.ADD_RULES)
        self._read = sync.register_script(scripts.READ_RULES)
        self._remove = sync.register_script(scripts.REMOVE_RULE)
        self._update = sync.register_script(scripts.UPDATE_RULE)
        self._clients = clients
        self._read_async = clients.template.register_script(scripts.READ_RULES)
        self._select = clients.template.register_script(scripts.SELECT_RULE)
        #: the version of the rules the copy below was read at, and the copy
        self._version = ""
        self._copy: list[tuple[str, Rule]] = []

    def _reseed(self, seed: int) -> None:
        # each worker draws its own sequence (a shared one would need a round trip per draw)
        self._rng = random.Random(f"rules:{seed}:{self._salt}")

    # -- the control side (blocking) ----------------------------------------------------------------------------

    def reset(self, rules: Iterable[Rule], *, seed: int) -> None:
        """Add the config's rules to a namespace just wiped (uncapped), and reseed this worker's draws."""
        self._reseed(seed)
        self._add_rules(tuple(rules), capped=False)

    def add(self, rules: Iterable[Rule]) -> list[str]:
        return self._add_rules(tuple(rules), capped=True)

    def _add_rules(self, rules: tuple[Rule, ...], *, capped: bool) -> list[str]:
        if not rules:
            return []
        cap = self.max_rules if capped and self.max_rules is not None else -1
        args: list[Any] = [cap]
        for rule in rules:
            args += [rule.id or "", rule.model_dump_json(), rule.times if rule.times is not None else "inf"]
        try:
            ids = self._add(keys=self._keys, args=args)
        except ResponseError as exc:
            reason, _, detail = str(exc).partition(":")
            if reason == "dup":
                raise RuleError(f"id: a rule with id {detail!r} already exists") from None
            raise RuleError(
                f"rules: at most {self.max_rules} rules may be in force (config max_rules); "
                f"{detail} are, and {len(rules)} more were given"
            ) from None
        except StateUnavailable:
            raise unavailable() from None
        return [_text(ident) for ident in ids]

    def remove(self, rule_id: str) -> bool:
        try:
            return bool(self._remove(keys=self._keys[:5], args=[rule_id]))
        except StateUnavailable:
            raise unavailable() from None

    def clear(self) -> int:
        try:
            with self._sync.pipeline() as pipe:
                pipe.llen(self._order_key)
                pipe.delete(self._order_key, self._spec_key, self._remaining_key, self._hits_key)
                pipe.incr(self._version_key)
                count, _, _ = pipe.execute()
        except StateUnavailable:
            raise unavailable() from None
        return int(count)

    def update(self, rule_id: str, *, times: int | None = None, probability: float | None = None) -> None:
        try:
            spec = self._sync.hget(self._spec_key, rule_id)
            if spec is None:
                raise KeyError(rule_id)
            changes: dict[str, Any] = {}
            if times is not None:
                changes["times"] = times
            if probability is not None:
                changes["probability"] = probability
            rule = Rule.model_validate({**Rule.model_validate_json(spec).model_dump(), **changes})
            args = [rule_id, rule.model_dump_json(), times if times is not None else ""]
            if not self._update(keys=[self._spec_key, self._remaining_key, self._version_key], args=args):
                raise KeyError(rule_id)
        except StateUnavailable:
            raise unavailable() from None

    def rules(self) -> list[ActiveRule]:
        try:
            reply = self._read(keys=self._keys[:5])
        except StateUnavailable:
            raise unavailable() from None
        return [
            ActiveRule(ident, rule, None if remaining == "inf" else int(remaining), int(hits))
            for ident, rule, remaining, hits in _parse(reply)[1]
        ]

    def select(self, facts: RequestFacts) -> Selection | None:
        raise TypeError("the rules are on Redis: use select_shared (on the server's loop)")

    # -- the request side (the server's loop) -------------------------------------------------------------------

    async def select_shared(self, facts: RequestFacts) -> tuple[Selection | None, int]:
        """The rule that fires for ``facts`` (using one of its ``times``) and how many canned replies are queued;
        raises the 503 :class:`~mockserver.wire.errors.APIErrorResponse` when Redis is away."""
        try:
            client = await self._clients.current()
            for _ in range(8):  # another worker may change the rules between a read and the choice
                candidates = [
                    (ident, rule)
                    for ident, rule in self._copy
                    if matches(rule.match, facts) and (rule.probability >= 1.0 or self._rng.random() < rule.probability)
                ]
                keys = [self._remaining_key, self._hits_key, self._version_key, self._replies_key]
                args = [self._version, *(ident for ident, _ in candidates)]
                reply = await self._select(keys=keys, args=args, client=client)
                if _text(reply[0]) != "stale":
                    chosen = _text(reply[0])
                    selection = next((Selection(i, rule.action) for i, rule in candidates if i == chosen), None)
                    return selection, int(reply[1])
                version, rules = _parse(await self._read_async(keys=self._keys[:5], client=client))
                self._version, self._copy = version, [(ident, rule) for ident, rule, _, _ in rules]
        except StateUnavailable:
            raise unavailable() from None
        raise unavailable()  # pragma: no cover - the rules changed eight times during one request


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse(reply: list[Any]) -> tuple[str, list[tuple[str, Rule, str, str]]]:
    """``READ_RULES``'s reply: the version, and (id, rule, remaining, hits) in order."""
    version = _text(reply[0])
    rules = []
    for index in range(1, len(reply), 4):
        spec = reply[index + 1]
        if spec:
            rule = Rule.model_validate_json(spec)
            rules.append((_text(reply[index]), rule, _text(reply[index + 2]), _text(reply[index + 3])))
    return version, rules
