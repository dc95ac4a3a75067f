"""``mockserver serve``: run the fake on a real socket until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn
from pydantic import ValidationError

from ..app import create_app
from ..config.scenario import apply_scenario, load_scenario
from ..config.settings import ConfigError, ServerConfig, default_config, format_validation_error, load_config
from ..faults.latency import LatencyProfile, parse_latency_text
from ..faults.rate_limits import RateLimits
from ..http.edge import uvicorn_config
from ..server import bind_socket, is_loopback_host
from ..state.stopping import StopSignal
from .recording import add_recording_commands, apply_recording_flags, recording_banner
from .workers import MULTI_WORKER_WARNING, serve_workers, unreachable_state

__all__ = ["build_config", "exposure_warning", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="A scriptable fake of the OpenAI HTTP API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8000, help="port to bind, 0..65535; 0 picks a free one (default: 8000)"
    )
    serve.add_argument("--config", metavar="FILE", help="a JSON or YAML config file (default: the embedded one)")
    serve.add_argument("--seed", type=int, help="seed for generated content and ids")
    serve.add_argument("--api-key", help="require this API key (default: any non-empty key)")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--workers", type=_positive, default=1, metavar="N", help="server processes on the socket (default: 1)"
    )
    serve.add_argument(
        "--state",
        metavar="URL",
        help="where the state lives: 'memory' (this process, the default) or redis://host:port/db[?prefix=NAME], "
        "shared by every worker and host naming it (see docs/shared-state.md)",
    )
    control = serve.add_argument_group("control API (/_mock/)")
    control.add_argument("--no-control", action="store_true", help="leave the control API out (its URLs answer 404)")
    control.add_argument("--control-token", metavar="TOKEN", help="require TOKEN in the X-Mock-Control-Token header")
    faults = serve.add_argument_group("faults and limits (over the config and the scenario)")
    faults.add_argument("--scenario", metavar="FILE", help="a JSON or YAML scenario: seed, latency, rate_limits, rules")
    faults.add_argument("--ttft", metavar="SPEC", help="delay before the first byte: seconds or e.g. uniform:0.1,0.3")
    faults.add_argument("--itl", metavar="SPEC", help="delay between stream events: seconds or e.g. normal:0.02,0.005")
    faults.add_argument("--error-rate", metavar="P", type=float, help="share of requests failing with a 500 or 503")
    faults.add_argument("--rpm", type=int, help="requests per minute before a 429")
    faults.add_argument("--tpm", type=int, help="tokens per minute before a 429")
    faults.add_argument("--journal-size", type=int, metavar="N", help="requests the journal keeps (default 10000)")
    limits = serve.add_argument_group("limits (see docs/limits.md)")
    limits.add_argument("--journal-bytes", type=int, metavar="N", help="bytes the journal keeps (default 64 MiB)")
    limits.add_argument("--output-limit", type=int, metavar="TOKENS", help="output limit of models the config omits")
    limits.add_argument("--header-timeout", type=float, metavar="SECONDS", help="time to send a request head (10)")
    limits.add_argument("--max-connections", type=int, metavar="N", help="open connections at most (default 1000)")
    _add_model_flags(serve)
    add_recording_commands(commands, serve)  # last: ``proxy`` takes every option ``serve`` has
    return parser


def _add_model_flags(serve: argparse.ArgumentParser) -> None:
    models = serve.add_argument_group("models")
    models.add_argument(
        "--strict-models",
        action="store_true",
        help="serve only the configured models: any other id gets OpenAI's 404 model_not_found (default: any id)",
    )


#: the limits' flags and the config fields they set
_LIMIT_FLAGS = (
    ("journal_bytes", "journal_bytes"),
    ("output_limit", "default_output_token_limit"),
    ("header_timeout", "header_read_timeout"),
    ("max_connections", "max_connections"),
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def exposure_warning(host: str, config: ServerConfig) -> str | None:
    """What to warn about when the fake listens on ``host``: nothing on a loopback address."""
    if is_loopback_host(host):
        return None
    if config.control_api and config.control_token is None:
        exposed = "the API and its unprotected control API (/_mock/; see --no-control, --control-token)"
    else:
        exposed = "the API"
    return f"{host} is reachable from other machines: {exposed}; the default, 127.0.0.1, is not"


def _latency_flag(name: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_latency_text(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _apply_flags(config: ServerConfig, args: argparse.Namespace) -> ServerConfig:
    changes: dict[str, object] = {}
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.api_key is not None:
        changes["api_key"] = args.api_key
    if args.journal_size is not None:
        changes["journal_size"] = args.journal_size
    if args.error_rate is not None:
        changes["error_rate"] = args.error_rate
    for flag, field in _LIMIT_FLAGS:
        if getattr(args, flag) is not None:
            changes[field] = getattr(args, flag)
    if args.state is not None:
        changes["state"] = args.state
    if args.no_control:
        changes["control_api"] = False
    if args.control_token is not None:
        changes["control_token"] = args.control_token
    ttft, itl = _latency_flag("--ttft", args.ttft), _latency_flag("--itl", args.itl)
    if ttft is not None or itl is not None:
        base = config.latency or LatencyProfile()
        changes["latency"] = LatencyProfile(ttft=ttft or base.ttft, itl=itl or base.itl)
    if args.rpm is not None or args.tpm is not None:
        base_limits = config.rate_limits or RateLimits()
        rpm = args.rpm if args.rpm is not None else base_limits.rpm
        tpm = args.tpm if args.tpm is not None else base_limits.tpm
        changes["rate_limits"] = {"rpm": rpm, "tpm": tpm}
    changes.update(_model_changes(args))
    if not changes:
        return config
    try:
        return ServerConfig.model_validate({**config.model_dump(), **changes})
    except ValidationError as exc:
        raise ConfigError(format_validation_error("command line", exc)) from None


def _model_changes(args: argparse.Namespace) -> dict[str, object]:
    return {"strict_models": True} if args.strict_models else {}


def build_config(args: argparse.Namespace) -> ServerConfig:
    """The config ``serve`` runs with: the config file (or the embedded default), then ``--scenario``, then the
    flags."""
    config = load_config(args.config) if args.config else default_config()
    if args.scenario:
        config = apply_scenario(config, load_scenario(args.scenario))
    return apply_recording_flags(_apply_flags(config, args), args)


class _Terminated(Exception):
    """SIGTERM, raised again by uvicorn once its graceful shutdown is done: ``serve`` then exits 0."""


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


class _Server(uvicorn.Server):
    """uvicorn's server, waking hung requests as soon as a stop is asked for (Ctrl-C, SIGTERM)."""

    def __init__(self, config: uvicorn.Config, stopping: StopSignal) -> None:
        super().__init__(config)
        self._stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._stopping.trigger()
        super().handle_exit(sig, frame)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = build_config(args)
    except ConfigError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"mockserver: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    warning = exposure_warning(args.host, config)
    if warning:
        print(f"mockserver: warning: {warning}", file=sys.stderr, flush=True)
    key = "the API key given" if config.api_key else "any non-empty API key"
    print(f"mockserver: serving the fake OpenAI API at http://{host}:{port}/v1", flush=True)
    print(f"mockserver: OPENAI_BASE_URL=http://{host}:{port}/v1 ({key})", flush=True)
    if (banner := recording_banner(config)) is not None:
        print(f"mockserver: {banner}", flush=True)
    if config.state != "memory" and (problem := unreachable_state(config)) is not None:
        print(f"mockserver: {problem}", file=sys.stderr)
        sock.close()
        return 1
    if args.workers > 1:
        if config.state == "memory":
            print(f"mockserver: {args.workers} workers: {MULTI_WORKER_WARNING}", file=sys.stderr, flush=True)
        try:
            serve_workers(config, sock, workers=args.workers, log_level=args.log_level)
        finally:
            sock.close()
        print("mockserver: stopped", flush=True)
        return 0
    app = create_app(config)
    server = _Server(uvicorn_config(app, config, log_level=args.log_level, lifespan="off"), app.state.mock.stopping)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Terminated):  # uvicorn re-raises the signal it caught, once it has shut down
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    print("mockserver: stopped", flush=True)
    return 0
