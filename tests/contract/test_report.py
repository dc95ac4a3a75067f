"""The conformance report: the table, the notes that name violated properties, markdown, and the exit status."""

from __future__ import annotations

from contract_tests._report import format_report, report_failed
from contract_tests._runner import PropertyResult

RESULTS = [
    PropertyResult("ours", "retries.policy", "pass", "", 1.0),
    PropertyResult("sdk", "retries.policy", "fail", "expected 1 attempt(s), the server saw 2", 1.0),
    PropertyResult("ours", "streaming.truncated_stream_raises", "pass", "", 1.0),
    PropertyResult("sdk", "streaming.truncated_stream_raises", "known deviation", "ends quietly", 1.0),
]


def test_text_table_has_a_row_per_property_and_a_column_per_client() -> None:
    lines = format_report(RESULTS).splitlines()
    assert lines[0].split() == ["property", "ours", "sdk"]
    assert lines[2].split() == ["retries.policy", "pass", "FAIL"]
    assert lines[3].split() == ["streaming.truncated_stream_raises", "pass", "known", "deviation"]


def test_notes_name_the_violated_property_and_the_deviation() -> None:
    text = format_report(RESULTS)
    assert "* sdk: FAIL retries.policy: expected 1 attempt(s), the server saw 2" in text
    assert "* sdk: known deviation streaming.truncated_stream_raises: ends quietly" in text


def test_markdown_table() -> None:
    lines = format_report(RESULTS, markdown=True).splitlines()
    assert lines[:3] == ["| property | ours | sdk |", "|---|---|---|", "| `retries.policy` | pass | FAIL |"]
    assert "- sdk: FAIL retries.policy: expected 1 attempt(s), the server saw 2" in lines


def test_a_failure_or_a_fixed_deviation_fails_the_report() -> None:
    assert report_failed(RESULTS)
    assert not report_failed([RESULTS[0], RESULTS[3]])
    assert report_failed([PropertyResult("sdk", "x", "deviation fixed", "reason", 0.1)])
