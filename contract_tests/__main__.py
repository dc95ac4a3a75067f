"""``python -m contract_tests --report``: run the contract against every built-in client (or the ones named) and
print the conformance table; ``--markdown FILE`` also writes it as markdown. Exits 1 when a property fails."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ._profiles import PROFILES, choose_profile
from ._properties import PROPERTIES
from ._report import format_report, report_failed
from ._runner import PropertyResult, run_suite
from ._targets import BUILTIN_TARGETS, TargetError, load_target, resolve_targets


def _run_one_target(spec: str, profile: str, prefixes: Sequence[str]) -> list[PropertyResult]:
    chosen = [prop for prop in PROPERTIES if not prefixes or prop.name.startswith(tuple(prefixes))]
    return run_suite([load_target(spec)], chosen, profile=profile)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests", description=__doc__)
    parser.add_argument("--report", action="store_true", help="run the suite and print the conformance table")
    parser.add_argument(
        "--contract-client",
        default="all",
        help=f"all (default), or comma-separated names ({', '.join(BUILTIN_TARGETS)}) or module:factory",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None, help="hypothesis profile (default: ci)")
    parser.add_argument("--property", action="append", default=[], help="only properties starting with this")
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown to this file")
    parser.add_argument("--jobs", type=int, default=2, help="clients checked at once, one process each")
    args = parser.parse_args(argv)
    if not args.report:
        parser.print_help()
        return 2
    try:
        specs = [target.name for target in resolve_targets(args.contract_client)]
    except TargetError as exc:
        parser.error(str(exc))
    profile = choose_profile(args.profile)
    results: list[PropertyResult] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for found in pool.map(_run_one_target, specs, [profile] * len(specs), [args.property] * len(specs)):
            results.extend(found)
    print(format_report(results))
    if args.markdown is not None:
        args.markdown.write_text(format_report(results, markdown=True), encoding="utf-8")
    return 1 if report_failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
