"""A faithful, scriptable fake of the OpenAI HTTP API."""

from __future__ import annotations

from ._app import create_app
from ._config import (
    CannedReply,
    CannedToolCall,
    ConfigError,
    Prepopulate,
    ServerConfig,
    default_config,
    load_config,
)
from ._journal import JournalEntry
from ._rules import Rule, RuleError
from ._scripting import RuleBuilder, ScriptedRule
from ._server import MockServer

__all__ = [
    "CannedReply",
    "CannedToolCall",
    "ConfigError",
    "JournalEntry",
    "MockServer",
    "Prepopulate",
    "Rule",
    "RuleBuilder",
    "RuleError",
    "ScriptedRule",
    "ServerConfig",
    "create_app",
    "default_config",
    "load_config",
]
