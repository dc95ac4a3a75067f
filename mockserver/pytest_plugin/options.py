"""The pytest plugin's settings: command-line options and ini keys, resolved (command line over ini) and checked.

Each setting is a ``--mock-openai-<name>`` option and a ``mock_openai_<name>`` ini key. A bad value is a
``pytest.UsageError`` that names the option or key and the value.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from ..config.scenario import apply_scenario, load_scenario
from ..config.settings import DEFAULT_STATE_PREFIX, ConfigError, ServerConfig, load_config

__all__ = ["DEFAULT_API_KEY", "PluginSettings", "add_options", "read_settings"]

#: what ``OPENAI_API_KEY`` is set to when no key is configured (the fake then accepts any key)
DEFAULT_API_KEY = "sk-mock-openai"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Setting:
    name: str
    help: str
    metavar: str

    @property
    def option(self) -> str:
        return "--mock-openai-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "mock_openai_" + self.name


_SETTINGS = (
    _Setting("seed", "seed for generated content, ids and rule probabilities (default 0)", "INT"),
    _Setting("api_key", "API key the fake requires and OPENAI_API_KEY carries (default: any key accepted)", "KEY"),
    _Setting("journal_size", "how many requests the journal keeps (default 10000)", "N"),
    _Setting("mode", "'generate' (seeded text, the default) or 'echo' (the last user message back)", "MODE"),
    _Setting("config", "a JSON or YAML server config file; the other settings override its fields", "PATH"),
    _Setting("scenario", "a JSON or YAML scenario (latency, rate limits, rules) applied over the config", "PATH"),
    _Setting("state", "'memory' (the default) or a Redis URL the server keeps its state in (shared-state.md)", "URL"),
)


@dataclass(frozen=True, slots=True)
class PluginSettings:
    """What the plugin's server is started with."""

    config: ServerConfig
    #: the config file the settings started from, if any
    config_path: Path | None = None
    #: the scenario file applied over it, if any
    scenario_path: Path | None = None
    #: ``--mock-openai-allow-network``: no network guard, no session-wide environment
    allow_network: bool = False

    @property
    def client_api_key(self) -> str:
        """The key clients are given (``OPENAI_API_KEY``): the one the server requires, else a placeholder."""
        return self.config.api_key if self.config.api_key is not None else DEFAULT_API_KEY

    def describe(self) -> str:
        """One line for the test report header."""
        config = self.config
        key = "required" if config.api_key is not None else "any accepted"
        source = f", config={self.config_path}" if self.config_path is not None else ""
        if self.scenario_path is not None:
            source += f", scenario={self.scenario_path}"
        state = ", state on Redis" if config.state != "memory" else ""
        return (
            f"mock_openai: http://127.0.0.1:<free port>/v1 per worker, started on first use; seed={config.seed}, "
            f"mode={config.mode}, api_key={key}, journal_size={config.journal_size}{source}{state}"
        )


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock_openai", "fake OpenAI server (mockserver)")
    for setting in _SETTINGS:
        group.addoption(setting.option, dest=setting.ini, default=None, metavar=setting.metavar, help=setting.help)
        parser.addini(setting.ini, f"{setting.help} [{setting.option}]", default="")
    _add_switches(parser)


def read_settings(config: pytest.Config, *, early: bool = False) -> PluginSettings:
    """The settings, command line over ini; raises ``pytest.UsageError`` naming a bad value.

    ``early``: read before pytest has finished parsing (``pytest_load_initial_conftests``), from its first pass
    over the command line."""
    raw = {setting.name: _raw_value(config, setting, early=early) for setting in _SETTINGS}
    overrides = {
        "seed": _convert(raw["seed"], int, "an integer"),
        "api_key": _convert(raw["api_key"], _non_empty, "a non-empty key"),
        "journal_size": _convert(raw["journal_size"], _non_negative, "an integer >= 0"),
        "mode": _convert(raw["mode"], _mode, "'generate' or 'echo'"),
        "state": _convert(raw["state"], str, "'memory' or a Redis URL"),
    }
    path = _convert(raw["config"], Path, "a path")
    scenario = _convert(raw["scenario"], Path, "a path")
    try:
        base = load_config(path) if path is not None else ServerConfig()
        if scenario is not None:
            base = apply_scenario(base, load_scenario(scenario))
        server_config = base.with_changes(**{name: value for name, value in overrides.items() if value is not None})
        if _switch(config, _STRICT_MODELS, early=early):
            server_config = server_config.with_changes(strict_models=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if server_config.state != "memory" and worker:  # each worker's fake resets its own namespace, per test
            server_config = server_config.with_changes(state=_with_prefix_suffix(server_config.state, worker))
    except ConfigError as exc:
        raise pytest.UsageError(f"mock_openai: {exc}") from None
    return PluginSettings(server_config, path, scenario, allow_network=_switch(config, _ALLOW_NETWORK, early=early))


def _with_prefix_suffix(url: str, suffix: str) -> str:
    """The Redis URL ``url`` with ``-<suffix>`` after its key prefix (the default one when it names none)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), DEFAULT_STATE_PREFIX)
    query = [(name, value) for name, value in query if name != "prefix"] + [("prefix", f"{prefix}-{suffix}")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _raw_value(config: pytest.Config, setting: _Setting, *, early: bool = False) -> tuple[str, str] | None:
    """``(where it came from, value)``; the command line wins over the ini file."""
    given = _given(config, setting.ini, early=early)
    if given is not None:
        return setting.option, str(given)
    value = config.getini(setting.ini)
    if isinstance(value, str) and value.strip():
        return f"{setting.ini} (ini)", value.strip()
    return None


def _convert(raw: tuple[str, str] | None, convert: Callable[[str], _T], expected: str) -> _T | None:
    if raw is None:
        return None
    where, value = raw
    try:
        return convert(value)
    except ValueError:
        raise pytest.UsageError(f"{where}: expected {expected}, got {value!r}") from None


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError(value)
    return value


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _mode(value: str) -> str:
    if value not in ("generate", "echo"):
        raise ValueError(value)
    return value


# -- switches: on/off settings (a flag, or an ini boolean) --------------------------------------------------------

_ALLOW_NETWORK = _Setting(
    "allow_network",
    "let this suite reach the network: no network guard, and OPENAI_BASE_URL & co. are set only by the fixtures",
    "",
)
_STRICT_MODELS = _Setting(
    "strict_models", "serve only the configured models; any other id gets OpenAI's 404 model_not_found", ""
)
_SWITCHES = (_ALLOW_NETWORK, _STRICT_MODELS)


def _add_switches(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock_openai")
    for switch in _SWITCHES:
        group.addoption(switch.option, dest=switch.ini, action="store_true", default=None, help=switch.help)
        parser.addini(switch.ini, f"{switch.help} [{switch.option}]", type="bool", default=False)


def _switch(config: pytest.Config, switch: _Setting, *, early: bool) -> bool:
    """The flag when given, else the ini value."""
    if _given(config, switch.ini, early=early):
        return True
    try:
        return bool(config.getini(switch.ini))
    except ValueError:
        raise pytest.UsageError(f"{switch.ini} (ini): expected true or false") from None


def _given(config: pytest.Config, dest: str, *, early: bool) -> object:
    """A command-line value; ``early``: from pytest's first pass over the command line."""
    if early:
        return getattr(config.known_args_namespace, dest, None)
    return config.getoption(dest)
