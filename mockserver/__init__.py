"""A faithful, scriptable fake of the OpenAI HTTP API."""

from __future__ import annotations

from .app import create_app
from .config.scenario import Scenario, apply_scenario, load_scenario, parse_scenario
from .config.settings import (
    CannedReply,
    CannedToolCall,
    ConfigError,
    Prepopulate,
    ServerConfig,
    default_config,
    load_config,
)
from .faults.latency import LatencyProfile
from .faults.rate_limits import RateLimits
from .faults.rules import Rule, RuleError
from .scripting import RuleBuilder, ScriptedRule
from .server import MockServer
from .state.journal import JournalEntry

__all__ = [
    "CannedReply",
    "CannedToolCall",
    "ConfigError",
    "JournalEntry",
    "LatencyProfile",
    "MockServer",
    "Prepopulate",
    "RateLimits",
    "Rule",
    "RuleBuilder",
    "RuleError",
    "Scenario",
    "ScriptedRule",
    "ServerConfig",
    "apply_scenario",
    "create_app",
    "default_config",
    "load_config",
    "load_scenario",
    "parse_scenario",
]

# Public names print as ``mockserver.MockServer``, not as the module that happens to define them (as httpx does).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
