"""``python -m bench proxy`` end to end at a tiny size: both servers spawned, every request counted, the proxy's
CPU seen; nothing is timed."""

from __future__ import annotations

import argparse

from bench import proxy
from bench.__main__ import BENCHMARKS


def test_it_is_registered() -> None:
    assert BENCHMARKS["proxy"] == ".proxy"


def test_a_tiny_run_measures_both_kinds_through_the_proxy() -> None:
    parser = argparse.ArgumentParser()
    proxy.add_arguments(parser)
    result = proxy.run(parser.parse_args(["--requests", "2", "--streams", "2", "--record"]))
    json_row, stream_row = result.rows
    assert (json_row["kind"], json_row["requests"], stream_row["kind"], stream_row["requests"]) == (
        "json",
        2,
        "stream",
        2,
    )
    assert stream_row["events"] >= 3  # chunks of a streamed chat completion were relayed and counted
    for row in result.rows:
        assert row["direct_ms"] > 0
        assert row["proxied_ms"] > 0
        assert row["proxy_cpu_ms"] >= 0
    assert result.details["record"] is True
