"""Cassettes: recorded exchanges in a human-diffable YAML file, loaded and checked, and written atomically with
their secrets left out.

A cassette is ``{"version": 1, "interactions": [...]}``; each interaction is a ``request`` (method, path, query,
the headers that matter, and the body as ``json``, ``text`` or ``base64``) and a ``response`` (status, headers,
``headers_ms`` and either the body, read in full ``elapsed_ms`` after the request was sent, or a stream's
``events``, each with its ``at_ms``). Times are milliseconds since the request was sent upstream. The format is
described in ``docs/record-replay.md``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..wire.json_codec import JSONDecodeError, dumps, loads

__all__ = [
    "REDACTED",
    "Cassette",
    "CassetteError",
    "Interaction",
    "RecordedEvent",
    "RecordedRequest",
    "RecordedResponse",
    "load_cassette",
    "load_cassettes",
    "save_cassette",
]

#: what a secret is written as
REDACTED = "<redacted>"
CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
#: libyaml's loader and dumper when PyYAML was built with it (several times faster), else the Python ones
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class CassetteError(ValueError):
    """A cassette that cannot be used; the message names the file, the place in it and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class _Body(_Model):
    """A body as one of: parsed JSON, text, or base64 bytes (or none)."""

    json_body: Any = Field(default=None, alias="json")
    text: str | None = None
    base64_body: str | None = Field(default=None, alias="base64")

    @model_validator(mode="after")
    def _one_body(self) -> _Body:
        given = [name for name, value in self._body_fields() if value is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one body, got {' and '.join(given)}")
        if self.base64_body is not None:
            try:
                base64.b64decode(self.base64_body, validate=True)
            except binascii.Error:
                raise ValueError("base64: not valid base64") from None
        return self

    def _body_fields(self) -> list[tuple[str, Any]]:
        return [("json", self.json_body), ("text", self.text), ("base64", self.base64_body)]

    def body_bytes(self) -> bytes:
        if self.json_body is not None:
            return dumps(self.json_body)
        if self.text is not None:
            return self.text.encode()
        if self.base64_body is not None:
            return base64.b64decode(self.base64_body)
        return b""

    def _body_data(self) -> dict[str, Any]:
        return {name: value for name, value in self._body_fields() if value is not None}


def body_fields(raw: bytes, content_type: str) -> dict[str, Any]:
    """The ``json`` / ``text`` / ``base64`` field for a body as received."""
    if not raw:
        return {}
    if "json" in content_type:
        try:
            return {"json": loads(raw)}
        except JSONDecodeError:
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    return {"text": text}


class RecordedRequest(_Body):
    method: str = Field(pattern=r"^[A-Z]+$")
    path: str = Field(pattern=r"^/")
    query: str = ""
    headers: dict[str, str] = Field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.query:
            data["query"] = self.query
        if self.headers:
            data["headers"] = dict(self.headers)
        return {**data, **self._body_data()}


class RecordedEvent(_Model):
    """One server-sent event: its ``data`` as JSON, or as ``text`` (``[DONE]``), and its ``event`` name."""

    at_ms: float = Field(ge=0)
    event: str | None = None
    data: Any = None
    text: str | None = None

    @model_validator(mode="after")
    def _one_payload(self) -> RecordedEvent:
        if (self.data is None) == (self.text is None):
            raise ValueError("an event has exactly one of data (JSON) and text")
        return self

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"at_ms": self.at_ms}
        if self.event is not None:
            data["event"] = self.event
        if self.text is not None:
            data["text"] = self.text
        else:
            data["data"] = self.data
        return data


class RecordedResponse(_Body):
    status: int = Field(ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    #: when the status and headers arrived
    headers_ms: float = Field(default=0.0, ge=0)
    #: when the whole body had arrived (not for streams)
    elapsed_ms: float = Field(default=0.0, ge=0)
    #: a stream's events, in order (``None``: not a stream)
    events: tuple[RecordedEvent, ...] | None = None

    @model_validator(mode="after")
    def _stream_or_body(self) -> RecordedResponse:
        if self.events is not None and any(value is not None for _, value in self._body_fields()):
            raise ValueError("a response has either a body or events, not both")
        for earlier, later in zip(self.events or (), (self.events or ())[1:], strict=False):
            if later.at_ms < earlier.at_ms:
                raise ValueError(f"events: at_ms goes back in time ({earlier.at_ms} then {later.at_ms})")
        return self

    @property
    def content_type(self) -> str:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return "application/json"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status}
        if self.headers:
            data["headers"] = dict(self.headers)
        data["headers_ms"] = self.headers_ms
        if self.events is not None:
            data["events"] = [event.to_data() for event in self.events]
        else:
            data["elapsed_ms"] = self.elapsed_ms
            data.update(self._body_data())
        return data


class Interaction(_Model):
    request: RecordedRequest
    response: RecordedResponse

    def to_data(self) -> dict[str, Any]:
        return {"request": self.request.to_data(), "response": self.response.to_data()}


class Cassette(_Model):
    version: Literal[1] = 1
    interactions: tuple[Interaction, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"version": self.version, "interactions": [item.to_data() for item in self.interactions]}


# -- loading -----------------------------------------------------------------------------------------------------


def load_cassette(path: Path) -> Cassette:
    """The cassette in ``path``; a :class:`CassetteError` names the file, the place and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CassetteError(f"{path}: byte {exc.start}: not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise CassetteError(f"{path}: {where}not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        raise CassetteError(f"{path}: expected a mapping with 'version' and 'interactions' at the top, got {kind}")
    try:
        return Cassette.model_validate(data)
    except ValidationError as exc:
        raise CassetteError(_describe(path, yaml.compose(text, Loader=_Loader), exc)) from None


def _describe(path: Path, node: yaml.Node | None, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        location = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        where = ".".join(str(part) for part in location) or "(top level)"
        line = _line_of(node, location)
        at = f" (line {line})" if line is not None else ""
        problems.append(f"{where}{at}: {error['msg']}")
    return f"{path}: " + "; ".join(problems)


def _line_of(node: yaml.Node | None, location: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at ``location`` (as deep as it exists)."""
    if node is None:
        return None
    for part in location:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def cassette_files(paths: Iterable[Path]) -> list[Path]:
    """Every cassette file named: files as given, directories as their cassette files, by name."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(item for item in path.iterdir() if item.suffix in CASSETTE_SUFFIXES))
        elif path.exists():
            files.append(path)
        else:
            raise CassetteError(f"{path}: no such cassette file or directory")
    return files


def load_cassettes(paths: Iterable[Path]) -> list[tuple[Path, Cassette]]:
    return [(path, load_cassette(path)) for path in cassette_files(paths)]


# -- saving ------------------------------------------------------------------------------------------------------


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Block style, keys in the order written; multi-line text as ``|`` blocks; a value written out wherever it
    occurs (no ``&anchor`` / ``*alias``: a cassette reads and diffs as plain data)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, value: str) -> yaml.ScalarNode:
    node: yaml.ScalarNode = dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )
    return node


_Dumper.add_representer(str, _represent_str)


def dump_cassette(cassette: Cassette, *, secrets: Iterable[str] = ()) -> str:
    """The YAML text of ``cassette``; any of ``secrets`` inside a string is written as :data:`REDACTED`."""
    data = _scrub(cassette.to_data(), tuple(secret for secret in secrets if secret))
    return _dump(data)


def dump_interaction(interaction: Interaction, *, secrets: Iterable[str] = ()) -> str:
    """One interaction's text as an item of a cassette's ``interactions`` (see :func:`cassette_text`)."""
    return _dump([_scrub(interaction.to_data(), tuple(secret for secret in secrets if secret))])


def cassette_text(interactions: Sequence[str]) -> str:
    """The text of a cassette made of :func:`dump_interaction` texts: what :func:`dump_cassette` gives, without
    dumping again what was dumped before (a recorder adds one interaction at a time)."""
    if not interactions:
        return "version: 1\ninteractions: []\n"
    return "version: 1\ninteractions:\n" + "".join(interactions)


def _dump(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=2**16, default_flow_style=False
    )
    return text


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrub(key, secrets): _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value


def save_cassette(path: Path, cassette: Cassette, *, secrets: Iterable[str] = ()) -> None:
    """Write ``cassette`` to ``path`` atomically: a temporary file beside it, flushed to disk, then renamed over
    it, so a reader (or a killed process) only ever sees the old file or the new one. Any of ``secrets`` left in
    a string is written as :data:`REDACTED`."""
    write_atomically(path, dump_cassette(cassette, secrets=secrets))


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, flushed to disk and renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
