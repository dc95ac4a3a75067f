"""Server configuration: one validated, immutable value, loaded from JSON or YAML or built in code."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..faults.latency import LatencyProfile
from ..faults.rate_limits import RateLimits
from ..faults.rules import Rule
from ..recording.settings import RecordingSettings

__all__ = [
    "DEFAULT_STATE_PREFIX",
    "CannedReply",
    "CannedToolCall",
    "ConfigError",
    "Prepopulate",
    "ServerConfig",
    "default_config",
    "format_validation_error",
    "load_config",
    "parse_config",
    "read_mapping",
]

DEFAULT_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-instruct",
    "o3-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
)


#: the output limits of the default models (tokens), as OpenAI publishes them
DEFAULT_OUTPUT_TOKEN_LIMITS = {
    "gpt-4o": 16_384,
    "gpt-4o-mini": 16_384,
    "gpt-4": 8_192,
    "gpt-4.1": 32_768,
    "gpt-4.1-mini": 32_768,
    "gpt-3.5-turbo": 4_096,
    "gpt-3.5-turbo-instruct": 4_096,
    "o3-mini": 100_000,
}
_LARGEST_OUTPUT_LIMIT = 1_000_000
#: what a secret sent in an HTTP header can be: printable ASCII, no spaces
_HEADER_TOKEN = re.compile(r"^[!-~]+$")


#: the default namespace of a shared state's keys (``?prefix=`` in the state URL changes it)
DEFAULT_STATE_PREFIX = "mockserver"
#: no ``:`` (it separates the parts of a key: a reset of ``a`` would wipe ``a:b``'s keys too) and no glob characters
_STATE_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def _state_location(value: str) -> str:
    """``memory`` or a Redis URL (``redis://host:port/db``, ``rediss://`` for TLS, ``?prefix=NAME`` optional)."""
    if value == "memory":
        return value
    parsed = urlsplit(value)
    if parsed.scheme not in ("redis", "rediss") or not parsed.hostname:
        raise ValueError("expected 'memory' or a Redis URL such as redis://127.0.0.1:6379/0")
    try:
        parsed.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ValueError("the Redis URL's port is not a number from 0 to 65535") from None
    database = parsed.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"the Redis database must be a number, got {database!r}")
    for name, prefix in parse_qsl(parsed.query, keep_blank_values=True):
        if name == "prefix" and not _STATE_PREFIX.match(prefix):
            raise ValueError("prefix: 1..200 letters, digits and _ . -")
    return value


def _header_token(value: str | None) -> str | None:
    if value is not None and not _HEADER_TOKEN.match(value):
        raise ValueError("must be printable ASCII without spaces (clients send it in an HTTP header)")
    return value


#: a secret clients send in a header: 1..4096 printable ASCII characters
_HeaderSecret = Annotated[str | None, Field(min_length=1, max_length=4096), AfterValidator(_header_token)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CannedToolCall(_Frozen):
    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class CannedReply(_Frozen):
    """A reply served instead of generated content: text, or tool calls."""

    content: str | None = None
    tool_calls: tuple[CannedToolCall, ...] = ()
    #: a text reply as the chunks it streams in (one piece per chunk); when given, the text is their join
    pieces: tuple[str, ...] | None = None


class Prepopulate(_Frozen):
    """How many items of each stateful resource exist when the server starts (or is reset)."""

    files: int = Field(default=0, ge=0, le=100_000)
    fine_tuning_jobs: int = Field(default=0, ge=0, le=100_000)
    batches: int = Field(default=0, ge=0, le=100_000)
    chat_completions: int = Field(default=0, ge=0, le=100_000)


class ServerConfig(_Frozen):
    seed: int = Field(default=0, ge=-(1 << 63), lt=1 << 63)
    #: when set, requests must send ``Authorization: Bearer <api_key>``
    api_key: _HeaderSecret = None
    #: ``generate``: seeded text; ``echo``: the last user message back
    mode: Literal["generate", "echo"] = "generate"
    models: tuple[str, ...] = DEFAULT_MODELS
    replies: tuple[CannedReply | str, ...] = ()
    prepopulate: Prepopulate = Prepopulate()
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0, le=1 << 40)
    #: bounds on the length of generated replies, in tokens
    min_reply_tokens: int = Field(default=8, ge=1, le=_LARGEST_OUTPUT_LIMIT)
    max_reply_tokens: int = Field(default=48, ge=1, le=_LARGEST_OUTPUT_LIMIT)
    #: how many requests the journal keeps (a ring buffer)
    journal_size: int = Field(default=10_000, ge=0, le=100_000_000)
    #: the default delays of every reply (a latency rule overrides them for the requests it matches)
    latency: LatencyProfile | None = None
    #: requests / tokens per minute; answered with a 429 when a bucket is empty
    rate_limits: RateLimits | None = None
    #: fault rules in force at start and after every reset, tried in order
    rules: tuple[Rule, ...] = ()
    #: the share of requests answered with a random 500 or 503 (tried after ``rules``)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    #: serve the control API under ``/_mock/`` (off: those URLs are unknown, 404)
    control_api: bool = True
    #: when set, control API requests must send it in the ``X-Mock-Control-Token`` header
    control_token: _HeaderSecret = None
    #: ``False`` (the default): every model id is served; ``True``: ids not in ``models`` get OpenAI's 404
    #: ``model_not_found`` (an Azure deployment: ``DeploymentNotFound``)
    strict_models: bool = False
    #: answer from recorded cassettes and/or an upstream, recording what it answers (see docs/record-replay.md)
    recording: RecordingSettings | None = None
    #: where the state lives: ``memory`` (this process) or a Redis URL shared by workers and hosts
    #: (see docs/shared-state.md); not shown in a repr (the URL may carry a password)
    state: Annotated[str, AfterValidator(_state_location)] = Field(default="memory", repr=False)

    # -- limits: what keeps one request, however hostile, from exhausting the fake (see docs/limits.md) ----------
    #: per model, the most tokens one reply (one choice) may hold, as the real models' output limits
    output_token_limits: dict[str, Annotated[int, Field(ge=1, le=_LARGEST_OUTPUT_LIMIT)]] = Field(
        default_factory=lambda: dict(DEFAULT_OUTPUT_TOKEN_LIMITS)
    )
    #: the output limit of a model ``output_token_limits`` does not name
    default_output_token_limit: int = Field(default=4_096, ge=1, le=_LARGEST_OUTPUT_LIMIT)
    #: the bytes the journal keeps in all (request bodies and headers counted); the oldest entries go first
    journal_bytes: int = Field(default=64 * 1024 * 1024, ge=0, le=1 << 40)
    #: a request body or header value larger than this is journaled truncated, with its length and a digest
    journal_body_bytes: int = Field(default=64 * 1024, ge=0, le=1 << 40)
    #: a connection that has not sent a request's whole header block within this many seconds is closed
    header_read_timeout: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)
    #: the most bytes a request's header block may have (a larger one is answered 431 and closed)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: open connections at most; past it new connections are closed at once
    max_connections: int = Field(default=1_000, ge=1, le=1_000_000)
    #: fault rules kept at most (a POST adding more is refused)
    max_rules: int = Field(default=10_000, ge=0, le=1_000_000)
    #: JSON objects and arrays a request body may hold (each costs the parsed body ~100 bytes of memory)
    max_body_containers: int = Field(default=1_000_000, ge=1, le=1 << 40)

    def output_token_limit(self, model: str) -> int:
        """The most tokens one reply of ``model`` may hold."""
        return self.output_token_limits.get(model, self.default_output_token_limit)

    def with_changes(self, **changes: Any) -> ServerConfig:
        """A copy with ``changes`` applied and validated."""
        return ServerConfig.model_validate({**self.model_dump(), **changes})


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names the bad field."""


def format_validation_error(source: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"{where}: {err['msg']}")
    return f"{source}: " + "; ".join(problems)


def parse_config(data: Any, *, source: str = "config") -> ServerConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return ServerConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from None


def read_mapping(path: Path) -> Any:
    """Read a JSON or YAML file (YAML is a superset of JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid JSON or YAML: {exc}") from None


def load_config(path: str | Path) -> ServerConfig:
    path = Path(path)
    return parse_config(read_mapping(path), source=str(path))


def default_config() -> ServerConfig:
    """The embedded default configuration that ``mockserver serve`` uses without ``--config``."""
    text = resources.files("mockserver.config").joinpath("default_config.yaml").read_text(encoding="utf-8")
    return parse_config(yaml.safe_load(text), source="default_config.yaml")
