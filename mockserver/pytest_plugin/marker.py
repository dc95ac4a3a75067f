"""``@pytest.mark.mock_openai(...)``: per-test server setup, read and checked before it is applied.

    @pytest.mark.mock_openai(
        rules=[{"match": {"path": "/v1/chat/completions"}, "action": {"type": "status", "status": 429}, "times": 2}],
        latency={"ttft": 0.005, "itl": 0.001},
        seed=7,
        replies=["first canned reply", "second"],
    )

Every argument is optional; a bad one raises :class:`MarkerError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from ..config.settings import CannedReply, ServerConfig
from ..faults.latency import LatencyProfile
from ..faults.rules import Rule, RuleError, parse_rules

__all__ = ["MARKER_HELP", "MARKER_NAME", "MarkerError", "MarkerSettings", "read_marker"]

MARKER_NAME = "mock_openai"
MARKER_HELP = (
    "mock_openai(rules=[...], latency={'ttft': s, 'itl': s}, seed=int, replies=[...], cassette='name', "
    "replay_speed=0.0): "
    "set up the fake OpenAI server (mock_openai fixture) for this test"
)
_KNOWN = ("cassette", "latency", "replay_speed", "replies", "rules", "seed")


class MarkerError(ValueError):
    """A ``mock_openai`` marker that cannot be applied; the message names the bad argument."""


@dataclass(frozen=True, slots=True)
class MarkerSettings:
    """A marker's arguments, validated."""

    rules: tuple[Rule, ...] = ()
    #: the default delays of every reply for this test
    latency: LatencyProfile | None = None
    seed: int | None = None
    replies: tuple[CannedReply, ...] = ()
    #: answer from (or record) ``cassettes/<module>/<cassette>.yaml`` beside the test
    cassette: str | None = None
    #: the replay's pace: 0 (the default in tests) at once, 1 as recorded
    replay_speed: float = 0.0

    def applied_to(self, config: ServerConfig) -> ServerConfig:
        """``config`` as this test wants it: its rules before the config's own, its seed, latency and replies.

        Being part of the config, they survive a ``reset()`` inside the test.
        """
        changes: dict[str, object] = {}
        if self.rules:
            changes["rules"] = (*self.rules, *config.rules)
        if self.latency is not None:
            changes["latency"] = self.latency
        if self.seed is not None:
            changes["seed"] = self.seed
        if self.replies:
            changes["replies"] = (*config.replies, *self.replies)
        return config.model_copy(update=changes) if changes else config


def read_marker(marker: pytest.Mark | None) -> MarkerSettings:
    if marker is None:
        return MarkerSettings()
    if marker.args:
        raise MarkerError(f"@pytest.mark.{MARKER_NAME} takes keyword arguments only, got {marker.args!r}")
    unknown = sorted(set(marker.kwargs) - set(_KNOWN))
    if unknown:
        raise MarkerError(
            f"@pytest.mark.{MARKER_NAME}: unknown argument(s) {', '.join(unknown)}; expected {', '.join(_KNOWN)}"
        )
    kwargs = marker.kwargs
    return MarkerSettings(
        rules=_rules(kwargs.get("rules", ())),
        latency=_latency(kwargs.get("latency")),
        seed=_seed(kwargs.get("seed")),
        replies=_replies(kwargs.get("replies", ())),
        cassette=_cassette(kwargs.get("cassette")),
        replay_speed=_replay_speed(kwargs.get("replay_speed", 0.0)),
    )


def _rules(value: Any) -> tuple[Rule, ...]:
    if isinstance(value, tuple):
        value = list(value)
    try:
        return parse_rules(value, where="rules")
    except RuleError as exc:
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: {exc}") from None


def _latency(value: Any) -> LatencyProfile | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MarkerError(
            f"@pytest.mark.{MARKER_NAME}: latency: expected a mapping like {{'ttft': 0.01, 'itl': 0.002}}, "
            f"got {value!r}"
        )
    try:
        return LatencyProfile.parse(value)
    except ValueError as exc:
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: latency: {exc}") from None


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: seed: expected an integer, got {value!r}")
    return value


def _replies(value: Any) -> tuple[CannedReply, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: replies: expected a list of texts, got {value!r}")
    replies = []
    for index, item in enumerate(value):
        try:
            reply = CannedReply(content=item) if isinstance(item, str) else CannedReply.model_validate(item)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            raise MarkerError(f"@pytest.mark.{MARKER_NAME}: replies.{index}: {problem['msg']}") from None
        replies.append(reply)
    return tuple(replies)


def _cassette(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or "/" in value or "\\" in value or value.startswith("."):
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: cassette: expected a file name like 'chat', got {value!r}")
    return value


def _replay_speed(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MarkerError(f"@pytest.mark.{MARKER_NAME}: replay_speed: expected a number >= 0, got {value!r}")
    return float(value)
