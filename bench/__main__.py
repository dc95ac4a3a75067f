"""``python -m bench <subcommand> [options] [--json out.json]``: run one benchmark, print its table, and write
its results as JSON when asked.

A benchmark is a module of this package with ``DESCRIPTION: str``, ``add_arguments(parser)`` and
``run(args) -> BenchResult``; adding one is that module plus one line in :data:`BENCHMARKS`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from ._result import BenchResult
from ._table import render

__all__ = ["BENCHMARKS", "build_parser", "main"]

#: subcommand -> module (relative to this package)
BENCHMARKS: Mapping[str, str] = {
    "latency": ".latency",
    "client_vs_sdk": ".client_vs_sdk",
    "inprocess": ".inprocess",
    "stateful": ".stateful",
    "server": ".server",
    "peers": ".peers",
    "scale": ".scale",
    "soak": ".soak",
    "storm": ".storm",
    "proxy": ".proxy",
    "hostile_soak": ".hostile_soak",
}


def _load(name: str) -> ModuleType:
    return importlib.import_module(BENCHMARKS[name], __package__ or "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the OpenAI mock harness.")
    commands = parser.add_subparsers(dest="benchmark", required=True, metavar="subcommand")
    for name in BENCHMARKS:
        module = _load(name)
        sub = commands.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    return parser


def _document(result: BenchResult, argv: Sequence[str]) -> dict[str, Any]:
    return {
        **result.to_json(),
        "argv": list(argv),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    run = cast(Callable[[argparse.Namespace], BenchResult], _load(args.benchmark).run)
    result = run(args)
    print(render(result))
    if args.json is not None:
        args.json.write_text(json.dumps(_document(result, arguments), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
