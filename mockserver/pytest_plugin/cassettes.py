"""Cassettes in pytest: ``@pytest.mark.mock_openai(cassette="name")`` and the record modes.

The cassette of a test lives beside it: ``<test dir>/cassettes/<module>/<name>.yaml`` (or under
``--mock-openai-cassette-dir``). Record modes, as pytest-recording names them:

- ``none`` (the default): replay only; a missing cassette fails the test, and nothing reaches a network;
- ``once``: replay an existing cassette; record a missing one through ``--mock-openai-upstream``;
- ``new_episodes``: replay what is recorded, forward and add what is not;
- ``all``: forward everything and record the cassette afresh.

One file per test, written atomically: safe under pytest-xdist. The upstream key comes from
``MOCK_OPENAI_UPSTREAM_KEY`` or ``OPENAI_API_KEY`` as the session starts (tests get a dummy key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import pytest
from pydantic import ValidationError

from ..config.settings import format_validation_error
from ..recording.settings import RecordingSettings

__all__ = ["RECORD_MODES", "CassetteOptions", "add_cassette_options", "cassette_recording", "read_cassette_options"]

RecordMode = Literal["none", "once", "new_episodes", "all"]
RECORD_MODES: tuple[RecordMode, ...] = ("none", "once", "new_episodes", "all")
#: the environment variables the upstream key is read from, in order
UPSTREAM_KEY_VARIABLES = ("MOCK_OPENAI_UPSTREAM_KEY", "OPENAI_API_KEY")


@dataclass(frozen=True, slots=True)
class CassetteOptions:
    record_mode: RecordMode = "none"
    upstream: str | None = None
    #: where cassettes live (``None``: a ``cassettes`` directory beside each test module)
    cassette_dir: Path | None = None
    upstream_key: str | None = None

    def __repr__(self) -> str:  # never the key
        key = "set" if self.upstream_key else "none"
        return (
            f"CassetteOptions(record_mode={self.record_mode!r}, upstream={self.upstream!r}, "
            f"cassette_dir={self.cassette_dir!r}, upstream_key={key})"
        )

    def describe(self) -> str:
        upstream = self.upstream or "none"
        return f"mock_openai cassettes: record_mode={self.record_mode}, upstream={upstream}"


def add_cassette_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock_openai")
    group.addoption(
        "--mock-openai-record-mode", dest="mock_openai_record_mode", default=None, choices=RECORD_MODES,
        help="cassettes: none (replay only, the default), once, new_episodes or all",
    )  # fmt: skip
    group.addoption(
        "--mock-openai-upstream", dest="mock_openai_upstream", default=None, metavar="URL",
        help="the API recorded from (its base URL, e.g. .../v1); the key comes from OPENAI_API_KEY",
    )  # fmt: skip
    group.addoption(
        "--mock-openai-cassette-dir", dest="mock_openai_cassette_dir", default=None, metavar="DIR",
        help="where cassettes live: DIR/<module>/<name>.yaml (default: cassettes/ beside each test module)",
    )  # fmt: skip
    parser.addini("mock_openai_record_mode", "cassettes: none, once, new_episodes or all", default="")
    parser.addini("mock_openai_upstream", "the API recorded from (its base URL)", default="")
    parser.addini("mock_openai_cassette_dir", "where cassettes live (relative to the rootdir)", default="")


def read_cassette_options(config: pytest.Config, environ: Mapping[str, str] | None = None) -> CassetteOptions:
    """The options, command line over ini; the upstream key from ``environ`` (default ``os.environ``): the real
    environment, not the one the plugin points at the fake."""
    environ = os.environ if environ is None else environ
    mode = config.getoption("mock_openai_record_mode") or str(config.getini("mock_openai_record_mode")).strip()
    if mode and mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"mock_openai_record_mode (ini): expected one of {', '.join(RECORD_MODES)}, got {mode!r}"
        )
    upstream = config.getoption("mock_openai_upstream") or str(config.getini("mock_openai_upstream")).strip()
    directory = config.getoption("mock_openai_cassette_dir")
    if directory is None and str(config.getini("mock_openai_cassette_dir")).strip():
        directory = config.rootpath / str(config.getini("mock_openai_cassette_dir")).strip()
    key = next((environ[name] for name in UPSTREAM_KEY_VARIABLES if environ.get(name)), None)
    return CassetteOptions(
        record_mode=cast(RecordMode, mode or "none"),
        upstream=upstream or None,
        cassette_dir=Path(directory) if directory is not None else None,
        upstream_key=key,
    )


def cassette_path(test_path: Path, name: str, options: CassetteOptions) -> Path:
    root = options.cassette_dir if options.cassette_dir is not None else test_path.parent / "cassettes"
    return root / test_path.stem / f"{name}.yaml"


def cassette_recording(test_path: Path, name: str, replay_speed: float, options: CassetteOptions) -> RecordingSettings:
    """How the server answers the test with cassette ``name``; fails the test (no traceback) when the mode cannot
    be followed (a cassette to replay that does not exist, a recording without an upstream)."""
    path = cassette_path(test_path, name, options)
    mode = options.record_mode
    exists = path.exists()
    if mode == "none" or (mode == "once" and exists):
        if not exists:
            pytest.fail(
                f"cassette {path} does not exist; record it with --mock-openai-record-mode once "
                "--mock-openai-upstream URL",
                pytrace=False,
            )
        return RecordingSettings(cassettes=(path,), replay_speed=replay_speed)
    if options.upstream is None:
        pytest.fail(
            f"--mock-openai-record-mode {mode} records cassette {path}: give the API to record from with "
            "--mock-openai-upstream URL (its key in OPENAI_API_KEY)",
            pytrace=False,
        )
    upstream = {"url": options.upstream, "key": options.upstream_key}
    replayed = (path,) if mode == "new_episodes" and exists else ()
    record_mode = "append" if mode == "new_episodes" else "overwrite"
    try:
        return RecordingSettings.model_validate(
            {
                "cassettes": replayed,
                "unmatched": "upstream",
                "upstream": upstream,
                "record_to": path,
                "record_mode": record_mode,
                "replay_speed": replay_speed,
            }
        )
    except ValidationError as exc:
        pytest.fail(format_validation_error("--mock-openai-upstream", exc), pytrace=False)
