from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mockserver.faults.rate_limits import RateDecision, RateLimiter, RateLimits, go_duration, go_duration_ns


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(rpm: int | None = None, tpm: int | None = None, clock: FakeClock | None = None) -> RateLimiter:
    return RateLimiter(RateLimits(rpm=rpm, tpm=tpm), clock=clock or FakeClock())


# --- go_duration ------------------------------------------------------------------------------------------------

# Go's own expectations for time.Duration.String() (its package tests), plus the shapes OpenAI sends
GO_DURATIONS = [
    (0, "0s"),
    (1, "1ns"),
    (999, "999ns"),
    (1_000, "1µs"),
    (1_100, "1.1µs"),
    (500_000, "500µs"),
    (2_200_000, "2.2ms"),
    (12_000_000, "12ms"),
    (999_999_999, "999.999999ms"),
    (1_000_000_000, "1s"),
    (1_500_000_000, "1.5s"),
    (3_300_000_000, "3.3s"),
    (18_642_000_000, "18.642s"),
    (60_000_000_000, "1m0s"),
    (245_000_000_000, "4m5s"),
    (245_001_000_000, "4m5.001s"),
    (360_000_000_000, "6m0s"),
    (480_000_000_001, "8m0.000000001s"),
    (3_600_000_000_000, "1h0m0s"),
    (3_723_000_000_000, "1h2m3s"),
    (18_367_001_000_000, "5h6m7.001s"),
    (2**63 - 1, "2562047h47m16.854775807s"),
    (-(2**63), "-2562047h47m16.854775808s"),
    (-1_500_000_000, "-1.5s"),
    (-1, "-1ns"),
]


@pytest.mark.parametrize(("nanoseconds", "expected"), GO_DURATIONS)
def test_go_duration_ns_matches_go(nanoseconds: int, expected: str) -> None:
    assert go_duration_ns(nanoseconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, "0s"),
        (0.012, "12ms"),
        (0.0005, "500µs"),
        (7e-9, "7ns"),
        (1.0, "1s"),
        (1.5, "1.5s"),
        (18.642, "18.642s"),
        (360.0, "6m0s"),
        (3723.0, "1h2m3s"),
        (480.000000001, "8m0.000000001s"),
        (1e-10, "0s"),
    ],
)
def test_go_duration_takes_float_seconds(seconds: float, expected: str) -> None:
    assert go_duration(seconds) == expected


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan])
def test_go_duration_rejects_non_finite(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        go_duration(seconds)


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (the test's own independent reader)."""
    units = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "µs": 10**3, "ns": 1}
    sign = -1 if text.startswith("-") else 1
    rest, total = text.lstrip("-"), Fraction(0)
    while rest:
        number = ""
        while rest[0].isdigit() or rest[0] == ".":
            number, rest = number + rest[0], rest[1:]
        unit = next(u for u in ("ms", "µs", "ns", "h", "m", "s") if rest.startswith(u))
        total += Fraction(number) * units[unit]
        rest = rest[len(unit) :]
    assert total.denominator == 1
    return sign * int(total)


@settings(deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_go_duration_ns_is_read_back_exactly(nanoseconds: int) -> None:
    text = go_duration_ns(nanoseconds)
    assert parse_go_duration(text) == nanoseconds
    assert "." not in text or not text.rstrip("hmnsµ").endswith("0")


# --- limits -----------------------------------------------------------------------------------------------------


def test_limits_must_be_positive_integers() -> None:
    assert RateLimits() == RateLimits(rpm=None, tpm=None)
    with pytest.raises(ValidationError, match="rpm"):
        RateLimits(rpm=0)
    with pytest.raises(ValidationError, match="tpm"):
        RateLimits.model_validate({"tpm": -5})
    with pytest.raises(ValidationError, match="rps"):
        RateLimits.model_validate({"rps": 5})


def test_no_limits_allow_everything_and_send_no_headers() -> None:
    rate = limiter()
    for _ in range(1000):
        assert rate.check(10**9, model="gpt-4o") == RateDecision(True)
    assert rate.headers() == {}


# --- requests ---------------------------------------------------------------------------------------------------


def test_requests_bucket_allows_a_burst_of_rpm_then_refuses() -> None:
    clock = FakeClock()
    rate = limiter(rpm=3, clock=clock)
    assert [rate.check(0, model="gpt-4o").allowed for _ in range(4)] == [True, True, True, False]


def test_refused_request_carries_openai_message_and_headers() -> None:
    clock = FakeClock()
    rate = limiter(rpm=3, clock=clock)
    for _ in range(3):
        rate.check(0, model="gpt-4o")
    clock.advance(5)  # refilled a quarter of a request
    decision = rate.check(0, model="gpt-4o")
    assert not decision.allowed
    assert decision.kind == "requests"
    assert decision.retry_after == pytest.approx(15.0)
    assert decision.message == (
        "Rate limit reached for gpt-4o in organization org-mock on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 15s."
    )
    assert decision.headers == {
        "retry-after": "15",
        "retry-after-ms": "15000",
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "55s",
    }


def test_refill_is_continuous() -> None:
    clock = FakeClock()
    rate = limiter(rpm=60, clock=clock)
    for _ in range(60):
        assert rate.check(0, model="m").allowed
    assert not rate.check(0, model="m").allowed
    clock.advance(0.5)
    assert not rate.check(0, model="m").allowed
    clock.advance(0.5)
    assert rate.check(0, model="m").allowed
    clock.advance(10)
    assert rate.headers()["x-ratelimit-remaining-requests"] == "10"
    clock.advance(1000)
    assert rate.headers()["x-ratelimit-remaining-requests"] == "60"  # never above the limit


def test_refused_requests_consume_nothing() -> None:
    clock = FakeClock()
    rate = limiter(rpm=1, clock=clock)
    assert rate.check(0, model="m").allowed
    first = rate.check(0, model="m")
    for _ in range(100):
        assert rate.check(0, model="m").retry_after == first.retry_after
    clock.advance(first.retry_after)
    assert rate.check(0, model="m").allowed


def test_a_clock_going_backwards_does_not_refill() -> None:
    clock = FakeClock()
    rate = limiter(rpm=2, clock=clock)
    rate.check(0, model="m")
    rate.check(0, model="m")
    clock.advance(-30)
    assert not rate.check(0, model="m").allowed
    clock.advance(30)
    assert not rate.check(0, model="m").allowed  # no time has passed since the last real reading
    clock.advance(30)
    assert rate.check(0, model="m").allowed


# --- tokens -----------------------------------------------------------------------------------------------------


def test_tokens_message_matches_openai_example() -> None:
    clock = FakeClock()
    rate = limiter(tpm=30000, clock=clock)
    assert rate.check(14567, model="gpt-4o").allowed
    decision = rate.check(24754, model="gpt-4o")
    # free 15433, need 24754: 9321 tokens at 500 per second
    assert decision.retry_after == pytest.approx(18.642)
    assert decision.message == (
        "Rate limit reached for gpt-4o in organization org-mock on tokens per min (TPM): "
        "Limit 30000, Used 14567, Requested 24754. Please try again in 18.642s."
    )
    assert decision.kind == "tokens"
    assert decision.headers["retry-after"] == "19"
    assert decision.headers["retry-after-ms"] == "18642"
    assert decision.headers["x-ratelimit-remaining-tokens"] == "15433"
    assert decision.headers["x-ratelimit-reset-tokens"] == "29.134s"


def test_retry_after_is_exact() -> None:
    clock = FakeClock(now=12345.678)
    rate = limiter(tpm=1000, clock=clock)
    rate.check(900, model="m")
    decision = rate.check(300, model="m")
    assert decision.retry_after == pytest.approx(200 / (1000 / 60))
    clock.advance(decision.retry_after - 0.001)
    assert not rate.check(300, model="m").allowed
    clock.advance(0.001)
    assert rate.check(300, model="m").allowed


def test_the_longer_wait_names_the_kind() -> None:
    clock = FakeClock()
    rate = limiter(rpm=2, tpm=100, clock=clock)
    rate.check(10, model="m")
    rate.check(10, model="m")
    decision = rate.check(10, model="m")
    assert (decision.kind, decision.retry_after) == ("requests", pytest.approx(30.0))
    clock.advance(30)
    decision = rate.check(99, model="m")  # 80 + 50 refilled -> full at 100; 99 fits, the request fits
    assert decision.allowed
    decision = rate.check(60, model="m")
    assert decision.kind == "tokens"
    assert decision.retry_after == pytest.approx(59 / (100 / 60))


def test_request_larger_than_the_token_limit_is_refused_for_good() -> None:
    clock = FakeClock()
    rate = limiter(rpm=10, tpm=1000, clock=clock)
    decision = rate.check(1001, model="gpt-4o-mini")
    assert not decision.allowed
    assert decision.kind == "tokens"
    assert decision.retry_after == math.inf
    assert decision.message == (
        "Request too large for gpt-4o-mini in organization org-mock on tokens per min (TPM): Limit 1000, "
        "Requested 1001. The input or output tokens must be reduced in order to run successfully."
    )
    assert "retry-after" not in decision.headers
    assert "retry-after-ms" not in decision.headers
    assert decision.headers["x-ratelimit-remaining-requests"] == "10"  # nothing consumed
    assert rate.check(1000, model="gpt-4o-mini").allowed  # exactly the limit fits


def test_record_charges_and_refunds_the_difference() -> None:
    clock = FakeClock()
    rate = limiter(tpm=600, clock=clock)
    rate.check(100, model="m")
    rate.record(actual_tokens=250, estimated_tokens=100)
    assert rate.headers()["x-ratelimit-remaining-tokens"] == "350"
    rate.record(actual_tokens=0, estimated_tokens=10_000)  # a refund never overfills the bucket
    assert rate.headers()["x-ratelimit-remaining-tokens"] == "600"


def test_record_can_leave_a_debt_that_later_requests_wait_out() -> None:
    clock = FakeClock()
    rate = limiter(tpm=600, clock=clock)
    rate.check(600, model="m")
    rate.record(actual_tokens=900, estimated_tokens=600)  # 300 tokens in debt
    headers = rate.headers()
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert headers["x-ratelimit-reset-tokens"] == "1m30s"
    decision = rate.check(0, model="m")
    assert decision.retry_after == pytest.approx(30.0)
    assert decision.message.endswith("Used 600, Requested 0. Please try again in 30s.")


def test_record_without_a_token_limit_is_a_no_op() -> None:
    rate = limiter(rpm=5)
    rate.record(actual_tokens=10**6, estimated_tokens=0)
    assert rate.headers()["x-ratelimit-remaining-requests"] == "5"


def test_negative_estimate_is_an_error() -> None:
    with pytest.raises(ValueError, match="estimated_tokens"):
        limiter(tpm=10).check(-1, model="m")


def test_organization_is_configurable() -> None:
    rate = RateLimiter(RateLimits(rpm=1), clock=FakeClock(), organization="org-abc")
    rate.check(0, model="gpt-4")
    assert "gpt-4 in organization org-abc on requests" in rate.check(0, model="gpt-4").message


# --- headers ----------------------------------------------------------------------------------------------------


def test_headers_of_a_full_limiter() -> None:
    rate = limiter(rpm=500, tpm=30000)
    assert rate.headers() == {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-limit-tokens": "30000",
        "x-ratelimit-remaining-requests": "500",
        "x-ratelimit-remaining-tokens": "30000",
        "x-ratelimit-reset-requests": "0s",
        "x-ratelimit-reset-tokens": "0s",
    }


def test_headers_only_for_configured_limits() -> None:
    assert set(limiter(tpm=10).headers()) == {
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens",
    }


def test_reset_is_time_until_full_rounded_up_to_a_millisecond() -> None:
    clock = FakeClock()
    rate = limiter(rpm=500, tpm=30000, clock=clock)
    decision = rate.check(1, model="m")
    assert decision.headers["x-ratelimit-reset-requests"] == "120ms"
    assert decision.headers["x-ratelimit-reset-tokens"] == "2ms"  # 1 token at 500/s
    assert decision.headers["x-ratelimit-remaining-requests"] == "499"
    assert decision.headers["x-ratelimit-remaining-tokens"] == "29999"
    clock.advance(0.1205)
    assert rate.headers()["x-ratelimit-reset-requests"] == "0s"


def test_allowed_decision_turns_into_no_error() -> None:
    with pytest.raises(ValueError, match="allowed"):
        limiter(rpm=1).check(0, model="m").error()


def test_refusal_becomes_an_openai_429() -> None:
    rate = limiter(tpm=100)
    rate.check(100, model="gpt-4o")
    error = rate.check(1, model="gpt-4o").error()
    assert error.status == 429
    assert error.body() == {
        "error": {
            "message": "Rate limit reached for gpt-4o in organization org-mock on tokens per min (TPM): "
            "Limit 100, Used 100, Requested 1. Please try again in 600ms.",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert error.headers["retry-after-ms"] == "600"
    assert error.headers["retry-after"] == "1"


# --- properties -------------------------------------------------------------------------------------------------

arrivals = st.lists(
    st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), st.integers(min_value=0, max_value=400)),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=500),
    arrivals,
    st.floats(min_value=0, max_value=1e6),
)
def test_never_allows_more_than_the_bucket_in_any_window(
    rpm: int, tpm: int, requests: list[tuple[float, int]], start: float
) -> None:
    clock = FakeClock(now=start)
    rate = limiter(rpm=rpm, tpm=tpm, clock=clock)
    allowed: list[tuple[float, int]] = []
    for gap, tokens in requests:
        clock.advance(gap)
        decision = rate.check(tokens, model="m")
        remaining = {k: int(v) for k, v in decision.headers.items() if k.startswith("x-ratelimit-remaining")}
        assert all(value >= 0 for value in remaining.values())
        assert remaining["x-ratelimit-remaining-requests"] <= rpm
        assert remaining["x-ratelimit-remaining-tokens"] <= tpm
        if decision.allowed:
            allowed.append((clock.now, tokens))
        else:
            assert decision.retry_after > 0
    for i, (first, _) in enumerate(allowed):
        for j in range(i, len(allowed)):
            window = allowed[j][0] - first
            in_window = allowed[i : j + 1]
            tolerance = 1e-6
            assert len(in_window) <= rpm * (1 + window / 60) + tolerance
            assert sum(tokens for _, tokens in in_window) <= tpm * (1 + window / 60) + tolerance * tpm


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=10_000),
    st.lists(st.tuples(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=12_000))),
)
def test_decisions_match_an_exact_rational_model(rpm: int, tpm: int, requests: list[tuple[int, int]]) -> None:
    """Integer-millisecond arrivals against a bucket computed with exact fractions."""
    clock = FakeClock(now=0.0)
    rate = limiter(rpm=rpm, tpm=tpm, clock=clock)
    now_ms = 0
    level = {"requests": Fraction(rpm), "tokens": Fraction(tpm)}
    capacity = {"requests": rpm, "tokens": tpm}
    last_ms = 0
    for gap_ms, tokens in requests:
        now_ms += gap_ms
        clock.now = now_ms / 1000
        for kind in level:
            refill = Fraction(now_ms - last_ms, 1000) * Fraction(capacity[kind], 60)
            level[kind] = min(Fraction(capacity[kind]), level[kind] + refill)
        last_ms = now_ms
        decision = rate.check(tokens, model="m")
        if tokens > tpm:
            assert (decision.allowed, decision.retry_after) == (False, math.inf)
            continue
        need = {"requests": Fraction(1), "tokens": Fraction(tokens)}
        waits = {k: max(Fraction(0), (need[k] - level[k]) / Fraction(capacity[k], 60)) for k in level}
        expected_allowed = all(wait == 0 for wait in waits.values())
        assert decision.allowed == expected_allowed
        if expected_allowed:
            for kind in level:
                level[kind] -= need[kind]
        else:
            assert decision.retry_after == pytest.approx(float(max(waits.values())), rel=1e-9, abs=1e-9)
        for kind in level:
            assert decision.headers[f"x-ratelimit-remaining-{kind}"] == str(math.floor(level[kind]))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**7),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=20),
    st.floats(min_value=0, max_value=1e7),
)
def test_waiting_exactly_retry_after_is_enough(tpm: int, estimates: list[int], start: float) -> None:
    clock = FakeClock(now=start)
    rate = limiter(rpm=max(1, tpm // 100), tpm=tpm, clock=clock)
    for estimate in estimates:
        decision = rate.check(estimate, model="m")
        if decision.allowed or decision.retry_after == math.inf:
            continue
        clock.advance(decision.retry_after)
        assert rate.check(estimate, model="m").allowed
