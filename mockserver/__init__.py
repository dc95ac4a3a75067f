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
from ._server import MockServer

__all__ = [
    "CannedReply",
    "CannedToolCall",
    "ConfigError",
    "MockServer",
    "Prepopulate",
    "ServerConfig",
    "create_app",
    "default_config",
    "load_config",
]
