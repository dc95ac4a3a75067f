"""The bench entry point without timing anything: argument parsing, tables, JSON output, statistics."""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import pytest

import bench.__main__ as entry
from bench import latency
from bench._result import BenchResult, Column
from bench._stats import Summary, summarize
from bench._stream_clients import StreamFailed, StreamTiming
from bench._table import format_cell, format_table, render
from bench._target import server_url


def test_table_aligns_numbers_right_and_text_left() -> None:
    columns = (Column("name", "name"), Column("value", "value ms", ".2f"), Column("count", "n"))
    rows = [{"name": "ttft", "value": 1.5, "count": 20}, {"name": "itl-long", "value": -12.345, "count": 4200}]
    assert format_table(columns, rows).splitlines() == [
        "name      value ms     n",
        "--------  --------  ----",
        "ttft          1.50    20",
        "itl-long    -12.35  4200",
    ]


def test_missing_values_and_booleans() -> None:
    assert format_cell(None, ".2f") == "-"
    assert format_cell(True) == "yes"
    assert format_cell(0.5, "+.1f") == "+0.5"
    table = format_table((Column("a", "a", ".1f"), Column("b", "b")), [{"a": None, "b": False}, {"a": 2.0}])
    assert table.splitlines()[2:] == ["  -  no", "2.0   -"]


def test_render_puts_name_table_and_notes_together() -> None:
    result = BenchResult("demo", (Column("x", "x"),), ({"x": 1},), notes=("read me",))
    assert render(result) == "== demo\nx\n-\n1\n  read me"


def test_result_json_keeps_raw_values() -> None:
    result = BenchResult("demo", (Column("x", "x", ".1f"),), ({"x": 1.23456},), {"seed": 3}, ("note",))
    assert result.to_json() == {
        "benchmark": "demo",
        "columns": ["x"],
        "rows": [{"x": 1.23456}],
        "details": {"seed": 3},
        "notes": ["note"],
    }


def test_summary_percentiles_interpolate_between_ranks() -> None:
    assert summarize([3.0, 1.0, 2.0]).median == 2.0
    assert summarize([1.0, 2.0, 3.0, 4.0]).median == 2.5
    assert summarize(list(map(float, range(101)))).p99 == 99.0
    assert summarize([1.0, 2.0]).p99 == pytest.approx(1.99)
    assert summarize([7.0]) == Summary(count=1, median=7.0, p99=7.0, max=7.0)
    with pytest.raises(ValueError, match="no samples"):
        summarize([])
    summary = summarize([4.0, 1.0, 3.0, 2.0])
    assert (summary.count, summary.median, summary.p99, summary.max) == (4, 2.5, pytest.approx(3.97), 4.0)


def test_every_benchmark_is_registered_with_its_interface() -> None:
    parser = entry.build_parser()
    for name in entry.BENCHMARKS:
        module = entry._load(name)
        assert isinstance(module.DESCRIPTION, str)
        assert callable(module.add_arguments)
        assert callable(module.run)
        assert parser.parse_args([name]).benchmark == name


def test_latency_arguments() -> None:
    args = entry.build_parser().parse_args(
        ["latency", "--ttft", "0.2", "--itl", "0.01", "--concurrency", "1, 50", "--client", "httpx", "--json", "o"]
    )
    assert (args.ttft, args.itl, args.concurrency, args.client, args.json) == (0.2, 0.01, (1, 50), "httpx", Path("o"))
    defaults = entry.build_parser().parse_args(["latency"])
    assert (defaults.ttft, defaults.itl, defaults.concurrency, defaults.json) == (0.1, 0.02, (1, 100), None)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["latency", "--ttft", "soon"], "not a number of seconds: 'soon'"),
        (["latency", "--itl", "-1"], "seconds must be within 0..10"),
        (["latency", "--concurrency", "1,0"], "must be >= 1"),
        (["latency", "--client", "curl"], "invalid choice: 'curl'"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        ([], "the following arguments are required"),
    ],
)
def test_bad_arguments_exit_with_a_message(argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert problem in capsys.readouterr().err


def test_latency_rows_from_timings() -> None:
    timings = [StreamTiming(0.105, (0.021, 0.022)), StreamTiming(0.115, (0.020,))]
    baseline = latency._Wave([StreamTiming(0.004, (0.0001,))], [])
    measured = latency._Wave(timings, ["ReadError: reset"])
    level = latency._Level(concurrency=2, baseline=baseline, measured=measured, seconds=1.0)
    ttft, itl = latency._rows(level, ttft=0.1, itl=0.02)
    assert ttft["failed"] == itl["failed"] == 1
    assert ttft["metric"] == "ttft"
    assert ttft["samples"] == 2
    assert ttft["baseline_ms"] == pytest.approx(4.0)
    assert ttft["median_error_ms"] == pytest.approx(10.0)
    assert ttft["max_error_ms"] == pytest.approx(15.0)
    assert itl["samples"] == 3
    assert itl["median_ms"] == pytest.approx(21.0)
    assert itl["p99_error_ms"] == pytest.approx(1.98)


def test_stream_timing_from_arrivals() -> None:
    timing = StreamTiming.from_arrivals(10.0, [10.5, 10.75, 11.0])
    assert timing == StreamTiming(0.5, (0.25, 0.25))
    with pytest.raises(StreamFailed, match="without events"):
        StreamTiming.from_arrivals(0.0, [])


def _fake_benchmark() -> types.ModuleType:
    module = types.ModuleType("bench._fake")
    module.DESCRIPTION = "a fake benchmark"  # type: ignore[attr-defined]

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--size", type=int, default=1)

    def run(args: argparse.Namespace) -> BenchResult:
        rows = ({"size": args.size, "rate": args.size * 1.5},)
        return BenchResult("fake", (Column("size", "size"), Column("rate", "rate", ".1f")), rows, {"k": "v"})

    module.add_arguments = add_arguments  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    return module


def test_main_prints_the_table_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "bench._fake", _fake_benchmark())
    monkeypatch.setattr(entry, "BENCHMARKS", {"fake": "._fake"})
    out = tmp_path / "out.json"
    assert entry.main(["fake", "--size", "4", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[:4] == ["== fake", "size  rate", "----  ----", "   4   6.0"]
    assert f"wrote {out}" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["benchmark"] == "fake"
    assert document["rows"] == [{"size": 4, "rate": 6.0}]
    assert document["details"] == {"k": "v"}
    assert document["argv"] == ["fake", "--size", "4", "--json", str(out)]


def test_main_without_json_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "bench._fake", _fake_benchmark())
    monkeypatch.setattr(entry, "BENCHMARKS", {"fake": "._fake"})
    monkeypatch.chdir(tmp_path)
    assert entry.main(["fake"]) == 0
    assert "wrote" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"])
def test_a_given_server_url_is_used_as_its_root(url: str) -> None:
    with server_url(url) as root:
        assert root == "http://127.0.0.1:8000"
