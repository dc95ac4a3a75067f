"""Scenario files: a run's faults in one JSON or YAML file, for ``mockserver serve --scenario FILE``::

    seed: 1
    latency: {ttft: 0.2, itl: "uniform:0.01,0.03"}
    rate_limits: {rpm: 60, tpm: 30000}
    error_rate: 0.05
    rules:
      - match: {path: /v1/chat/completions}
        action: {type: status, status: 429, retry_after_ms: 20}
        times: 2

A scenario is validated as a whole before anything is applied; a bad one raises :class:`ConfigError` naming the
file and the bad field. Applying it to a config gives a new config: its rules come after the config's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..faults.latency import LatencyProfile
from ..faults.rate_limits import RateLimits
from ..faults.rules import Rule
from .settings import CannedReply, ConfigError, ServerConfig, format_validation_error, read_mapping

__all__ = ["Scenario", "apply_scenario", "load_scenario", "parse_scenario"]


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int | None = None
    latency: LatencyProfile | None = None
    rate_limits: RateLimits | None = None
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    rules: tuple[Rule, ...] = ()
    replies: tuple[CannedReply | str, ...] = ()


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    return parse_scenario(read_mapping(path), source=str(path))


def apply_scenario(config: ServerConfig, scenario: Scenario) -> ServerConfig:
    """``config`` with the scenario's settings; its rules and replies follow the config's own."""
    changes: dict[str, Any] = {}
    for name in ("seed", "latency", "rate_limits", "error_rate"):
        value = getattr(scenario, name)
        if value is not None:
            changes[name] = value
    if scenario.rules:
        changes["rules"] = (*config.rules, *scenario.rules)
    if scenario.replies:
        changes["replies"] = (*config.replies, *scenario.replies)
    return config.model_copy(update=changes) if changes else config
