"""The retry policy as pure functions: which responses are retried, and how long to wait."""

from __future__ import annotations

import email.utils

import pytest

from client._retry import MAX_RETRY_AFTER_DELAY, parse_retry_after, retry_delay, should_retry

NOW = 1_700_000_000.0


def _now() -> float:
    return NOW


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        *[(400, False), (401, False), (403, False), (404, False), (408, True), (409, True), (422, False)],
        *[(429, True), (500, True), (502, True), (503, True), (599, True)],
    ],
)
def test_statuses_retried_by_default(status: int, expected: bool) -> None:
    assert should_retry(status, {}, _now) is expected


@pytest.mark.parametrize("status", [400, 429, 500])
def test_x_should_retry_is_obeyed(status: int) -> None:
    assert should_retry(status, {"x-should-retry": "true"}, _now) is True
    assert should_retry(status, {"x-should-retry": "false"}, _now) is False


def test_retry_after_above_the_limit_means_no_retry_even_if_told_to() -> None:
    headers = {"retry-after": "121", "x-should-retry": "true"}
    assert should_retry(429, headers, _now) is False
    assert should_retry(429, {"retry-after": "120"}, _now) is True
    assert should_retry(429, {"retry-after-ms": "120001"}, _now) is False


def test_numeric_overflow_counts_as_too_long_but_literal_infinity_does_not() -> None:
    assert parse_retry_after({"retry-after": "1e999"}) == MAX_RETRY_AFTER_DELAY + 1
    assert should_retry(429, {"retry-after": "1e999"}, _now) is False
    assert should_retry(429, {"retry-after": "inf"}, _now) is True


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, _now) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "not a date"}, _now) is None
    assert parse_retry_after({}, _now) is None


@pytest.mark.parametrize(("retries_taken", "base"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)])
def test_backoff_doubles_to_a_cap_with_up_to_25_percent_jitter(retries_taken: int, base: float) -> None:
    assert retry_delay(retries_taken, None, random=lambda: 0.0) == base
    assert retry_delay(retries_taken, None, random=lambda: 1.0) == base * 0.75
    assert retry_delay(retries_taken, None, random=lambda: 0.5) == base * 0.875


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "5"}, 0.005),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "120"}, 120.0),
        ({"retry-after": "0"}, 0.5),
        ({"retry-after": "-2"}, 0.5),
        ({"retry-after": "121"}, 0.5),
        ({"retry-after": "nan"}, 0.5),
    ],
)
def test_server_directed_delay_used_only_when_within_limits(headers: dict[str, str], expected: float) -> None:
    assert retry_delay(0, headers, random=lambda: 0.0, now=_now) == expected
