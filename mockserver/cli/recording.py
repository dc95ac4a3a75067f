"""``mockserver proxy`` and ``serve --cassettes``: the command line of record, replay and proxy.

``mockserver proxy --upstream URL [--record DIR]`` takes every option ``serve`` takes (faults apply in front of
the upstream and inside relayed streams) and forwards what it is asked to the upstream, recording each exchange in
``DIR/<name>.yaml`` when asked. ``mockserver serve --cassettes DIR [--replay-speed X]`` answers from cassettes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config.settings import ConfigError, ServerConfig, format_validation_error
from ..recording.cassette import CassetteError
from ..recording.session import RecordingSession
from ..recording.settings import RecordingSettings

__all__ = ["add_recording_commands", "apply_recording_flags", "recording_banner"]

#: the cassette ``proxy --record DIR`` writes, unless ``--cassette-name`` says otherwise
DEFAULT_CASSETTE_NAME = "recording"


def add_recording_commands(commands: Any, serve: argparse.ArgumentParser) -> None:
    """``serve``'s replay options, and the ``proxy`` command (``serve``'s options and the upstream's)."""
    replay = serve.add_argument_group("replay (answer from recorded cassettes)")
    replay.add_argument(
        "--cassettes", metavar="PATH", action="append", type=Path,
        help="a cassette file, or a directory of them, to answer from (repeatable)",
    )  # fmt: skip
    replay.add_argument(
        "--replay-speed", metavar="X", type=_speed, default=None,
        help="1 (default) reproduces the recorded timing, 0 sends at once, other factors scale it",
    )  # fmt: skip
    replay.add_argument(
        "--unmatched", choices=["error", "generate"], default=None,
        help="a request no recording matches: an error naming the closest one (default), or generated content",
    )  # fmt: skip
    replay.add_argument(
        "--ignore-field", metavar="PATH", action="append", default=[],
        help="a JSON body field (dotted path) that does not count when matching (repeatable)",
    )  # fmt: skip
    proxy = commands.add_parser(
        "proxy", parents=[serve], conflict_handler="resolve",
        help="forward every /v1 request to an upstream (faults applied), recording the exchanges if asked",
    )  # fmt: skip
    group = proxy.add_argument_group("upstream and recording")
    group.add_argument("--upstream", metavar="URL", required=True, help="the upstream's base URL, e.g. .../v1")
    group.add_argument(
        "--upstream-key", metavar="KEY", help="the key sent upstream (default: OPENAI_API_KEY in this environment)"
    )
    group.add_argument("--upstream-timeout", metavar="S", type=float, help="seconds to wait upstream (default 60)")
    group.add_argument("--record", metavar="DIR", type=Path, help="write each exchange to a cassette in DIR")
    group.add_argument(
        "--cassette-name", metavar="NAME", default=DEFAULT_CASSETTE_NAME,
        help=f"the cassette's name in DIR (default {DEFAULT_CASSETTE_NAME}: DIR/{DEFAULT_CASSETTE_NAME}.yaml)",
    )  # fmt: skip
    group.add_argument(
        "--redact-header", metavar="NAME", action="append", default=[],
        help="a header whose value is never written (credentials and cookies never are; repeatable)",
    )  # fmt: skip
    group.add_argument(
        "--redact-field", metavar="PATH", action="append", default=[],
        help="a JSON body field (dotted path) whose value is never written (repeatable)",
    )  # fmt: skip


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a factor of at least 0, got {text!r}")
    return value


def apply_recording_flags(config: ServerConfig, args: argparse.Namespace) -> ServerConfig:
    """``config`` with the recording the flags ask for (none: ``config`` as it is)."""
    settings: dict[str, Any] = {}
    if args.cassettes:
        settings["cassettes"] = tuple(args.cassettes)
    if args.replay_speed is not None:
        settings["replay_speed"] = args.replay_speed
    if args.unmatched is not None:
        settings["unmatched"] = args.unmatched
    if args.ignore_field:
        settings["ignored_fields"] = tuple(args.ignore_field)
    if args.command == "proxy":
        upstream: dict[str, Any] = {"url": args.upstream}
        key = args.upstream_key if args.upstream_key is not None else os.environ.get("OPENAI_API_KEY")
        if key:
            upstream["key"] = key
        if args.upstream_timeout is not None:
            upstream["timeout"] = args.upstream_timeout
        settings["upstream"] = upstream
        settings["unmatched"] = "upstream"
        settings["redact_headers"] = tuple(args.redact_header)
        settings["redact_body_paths"] = tuple(args.redact_field)
        if args.record is not None:
            if args.workers > 1:
                raise ConfigError("--record: recording needs one process (--workers 1)")
            settings["record_to"] = args.record / f"{args.cassette_name}.yaml"
    if not settings:
        return config
    try:
        recording = RecordingSettings.model_validate(settings)
        RecordingSession(recording)  # a missing or corrupt cassette is a usage error, said now
    except ValidationError as exc:
        raise ConfigError(format_validation_error("command line", exc)) from None
    except CassetteError as exc:
        raise ConfigError(str(exc)) from None
    return config.model_copy(update={"recording": recording})


def recording_banner(config: ServerConfig) -> str | None:
    """What the server says at start about where its answers come from."""
    recording = config.recording
    if recording is None:
        return None
    parts = []
    if recording.cassettes:
        speed = f"{recording.replay_speed:g}"
        parts.append(f"replaying {', '.join(str(path) for path in recording.cassettes)} at speed {speed}")
    if recording.upstream is not None:
        parts.append(f"forwarding to {recording.upstream.url}")
    if recording.record_to is not None:
        parts.append(f"recording to {recording.record_to}")
    return "; ".join(parts)
