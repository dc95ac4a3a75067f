"""How the server records and replays: a validated, immutable part of the server config
(``ServerConfig.recording``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["RecordingSettings", "Upstream"]

#: headers (lowercase) whose values never reach a cassette
DEFAULT_REDACTED_HEADERS = (
    "authorization",
    "api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Upstream(_Frozen):
    """The real API requests are forwarded to."""

    #: the base URL a client would use as ``OPENAI_BASE_URL`` (``https://api.openai.com/v1``)
    url: str
    #: the key sent upstream (the local clients' own keys are not forwarded)
    key: SecretStr | None = None
    #: seconds to wait for the upstream to connect, and for each piece of its answer
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        return url.rstrip("/")


class RecordingSettings(_Frozen):
    """Where answers come from besides generation: recorded cassettes, an upstream, or both."""

    #: cassette files, or directories of them (every ``*.yaml`` / ``*.yml`` / ``*.json`` in one, by name)
    cassettes: tuple[Path, ...] = ()
    #: what a request no recorded exchange matches gets: an error naming the closest recorded request,
    #: generated content, or the upstream's answer
    unmatched: Literal["error", "generate", "upstream"] = "error"
    upstream: Upstream | None = None
    #: the cassette file forwarded exchanges are written to (none: nothing is recorded)
    record_to: Path | None = None
    #: ``append``: the file keeps what it held and grows; ``overwrite``: it holds only this run's exchanges
    record_mode: Literal["append", "overwrite"] = "append"
    #: 1 reproduces the recorded timing, 0 sends at once, any other factor scales it
    replay_speed: float = Field(default=1.0, ge=0)
    #: JSON body fields (dotted paths, like ``metadata.trace_id``) that do not count when matching
    ignored_fields: tuple[str, ...] = ()
    #: more headers (besides the credentials and cookies) whose values are never written
    redact_headers: tuple[str, ...] = ()
    #: JSON body paths (dotted) whose values are never written; they do not count when matching either
    redact_body_paths: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _upstream_when_needed(self) -> RecordingSettings:
        if self.upstream is None and (self.unmatched == "upstream" or self.record_to is not None):
            needs = "unmatched: upstream" if self.unmatched == "upstream" else "record_to"
            raise ValueError(f"{needs} needs an upstream to forward requests to")
        return self

    @property
    def redacted_headers(self) -> frozenset[str]:
        return frozenset((*DEFAULT_REDACTED_HEADERS, *(name.lower() for name in self.redact_headers)))

    @property
    def ignored_paths(self) -> tuple[str, ...]:
        return (*self.ignored_fields, *self.redact_body_paths)
