"""``mockserver serve``: run the fake on a real socket until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from ._app import create_app
from ._config import ConfigError, ServerConfig, default_config, load_config
from ._server import bind_socket

__all__ = ["build_config", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="A scriptable fake of the OpenAI HTTP API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)")
    serve.add_argument("--config", metavar="FILE", help="a JSON or YAML config file (default: the embedded one)")
    serve.add_argument("--seed", type=int, help="seed for generated content and ids")
    serve.add_argument("--api-key", help="require this API key (default: any non-empty key)")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def build_config(args: argparse.Namespace) -> ServerConfig:
    config = load_config(args.config) if args.config else default_config()
    changes: dict[str, object] = {}
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.api_key is not None:
        changes["api_key"] = args.api_key
    return config.with_changes(**changes) if changes else config


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
    print(f"mockserver: serving the fake OpenAI API at http://{host}:{port}/v1", flush=True)
    print(f"mockserver: OPENAI_BASE_URL=http://{host}:{port}/v1 (any non-empty API key)", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level=args.log_level, lifespan="off", timeout_graceful_shutdown=5)
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("mockserver: stopped", flush=True)
    return 0
