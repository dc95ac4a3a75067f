"""A faithful, scriptable fake of the OpenAI HTTP API."""

from __future__ import annotations

from .app import create_app
from .config.settings import (
    CannedReply,
    CannedToolCall,
    ConfigError,
    Prepopulate,
    ServerConfig,
    default_config,
    load_config,
)
from .faults.rules import Rule, RuleError
from .scripting import RuleBuilder, ScriptedRule
from .server import MockServer
from .state.journal import JournalEntry

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
