"""A few seconds of the hostile soak (``python -m bench hostile_soak`` runs 10 minutes): every hostile request
gets the answer it should (413, 431, 400, a bounded 200, a closed connection), nothing unscripted fails, and the
server exits on SIGTERM within 2 s."""

from __future__ import annotations

import argparse

from bench import hostile_soak
from bench.__main__ import BENCHMARKS


def test_the_hostile_soak_is_registered() -> None:
    assert BENCHMARKS["hostile_soak"] == ".hostile_soak"


def test_a_short_hostile_soak_passes_its_checks() -> None:
    parser = argparse.ArgumentParser()
    hostile_soak.add_arguments(parser)
    args = parser.parse_args(["--duration", "2", "--concurrency", "3", "--journal-bytes", "1000000"])
    result = hostile_soak.run(args)
    checks = result.details["checks"]
    assert checks["no_unscripted_5xx"], result.details["unexpected"]
    assert checks["health_always_answered"]
    assert checks["sigterm_within_2s"], result.details["sigterm_seconds"]
    assert sum(row["requests"] for row in result.rows) > 10
    assert {row["kind"] for row in result.rows} == {kind.name for kind in hostile_soak._KINDS}
