from __future__ import annotations

import json
import math
import random
import statistics

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from mockserver.faults.latency import (
    LONGEST_DELAY,
    FixedLatency,
    LatencyDistribution,
    LatencyProfile,
    LatencySpec,
    LognormalLatency,
    NormalLatency,
    UniformLatency,
    format_latency,
    parse_latency,
    parse_latency_text,
    sample,
)
from mockserver.http.fault_actions import shaping_for

seconds = st.floats(min_value=0, max_value=LONGEST_DELAY, allow_nan=False, allow_infinity=False)


@st.composite
def specs(draw: st.DrawFn) -> LatencyDistribution:
    kind = draw(st.sampled_from(["fixed", "uniform", "normal", "lognormal"]))
    if kind == "fixed":
        return FixedLatency(value=draw(seconds))
    if kind == "uniform":
        low, high = sorted([draw(seconds), draw(seconds)])
        return UniformLatency(low=low, high=high)
    if kind == "normal":
        return NormalLatency(mean=draw(seconds), stddev=draw(seconds))
    median = draw(st.floats(min_value=1e-6, max_value=10))
    return LognormalLatency(median=median, sigma=draw(st.floats(min_value=0, max_value=3)))


# --- the JSON shape ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (0.2, FixedLatency(value=0.2)),
        (3, FixedLatency(value=3.0)),
        (0, FixedLatency(value=0.0)),
        ({"dist": "fixed", "value": 0.5}, FixedLatency(value=0.5)),
        ({"dist": "uniform", "low": 0.01, "high": 0.03}, UniformLatency(low=0.01, high=0.03)),
        ({"dist": "uniform", "low": 0.01, "high": 0.01}, UniformLatency(low=0.01, high=0.01)),
        ({"dist": "normal", "mean": 0.02, "stddev": 0.005}, NormalLatency(mean=0.02, stddev=0.005)),
        ({"dist": "lognormal", "median": 0.02, "sigma": 0.5}, LognormalLatency(median=0.02, sigma=0.5)),
        ("uniform:0.01,0.03", UniformLatency(low=0.01, high=0.03)),
    ],
)
def test_parse_latency_accepts_every_documented_shape(data: object, expected: object) -> None:
    assert parse_latency(data) == expected


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (-0.1, "fixed.value"),
        (float("nan"), "fixed.value"),
        (float("inf"), "fixed.value"),
        (True, "boolean"),
        ([0.1], "list"),
        ({"low": 0.1, "high": 0.2}, "dist must be one of"),
        ({"dist": "gamma", "shape": 1}, "'gamma'"),
        ({"dist": ["uniform"]}, "dist must be one of"),
        ({"dist": "uniform", "low": 0.1}, "uniform.high"),
        ({"dist": "uniform", "low": -1, "high": 1}, "uniform.low"),
        ({"dist": "uniform", "low": 0.3, "high": 0.2}, "high (0.2) must be >= low (0.3)"),
        ({"dist": "uniform", "low": 0.1, "high": 0.2, "mean": 1}, "uniform.mean"),
        ({"dist": "normal", "mean": 0.1, "stddev": -1}, "normal.stddev"),
        ({"dist": "normal", "mean": "soon", "stddev": 1}, "normal.mean"),
        ({"dist": "lognormal", "median": 0, "sigma": 1}, "lognormal.median"),
        ({"dist": "lognormal", "mu": -3, "sigma": 1}, "lognormal.mu"),
        ({"dist": "fixed"}, "fixed.value"),
    ],
)
def test_parse_latency_errors_name_the_bad_field(data: object, names: str) -> None:
    with pytest.raises(ValueError, match="invalid latency") as caught:
        parse_latency(data)
    assert names in str(caught.value)


def test_a_spec_is_a_field_type_for_other_models() -> None:
    class Action(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        delay: LatencySpec

    assert Action.model_validate({"delay": 0.1}).delay == FixedLatency(value=0.1)
    assert Action.model_validate({"delay": "normal:1,2"}).delay == NormalLatency(mean=1, stddev=2)
    dumped = Action(delay=UniformLatency(low=1, high=2)).model_dump(mode="json")
    assert dumped == {"delay": {"dist": "uniform", "low": 1.0, "high": 2.0}}
    assert Action.model_validate(dumped) == Action(delay=UniformLatency(low=1, high=2))


def test_specs_are_frozen() -> None:
    spec = UniformLatency(low=0.1, high=0.2)
    with pytest.raises(ValueError, match="frozen"):
        spec.low = 0.0  # type: ignore[misc]
    assert hash(spec) == hash(UniformLatency(low=0.1, high=0.2))


@settings(deadline=None)
@given(specs())
def test_json_dump_round_trips(spec: LatencyDistribution) -> None:
    assert parse_latency(json.loads(json.dumps(spec.model_dump(mode="json")))) == spec


# --- the CLI syntax ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.2", FixedLatency(value=0.2)),
        (" 1 ", FixedLatency(value=1.0)),
        ("fixed:0.25", FixedLatency(value=0.25)),
        ("uniform:0.01,0.03", UniformLatency(low=0.01, high=0.03)),
        ("uniform: 0.01 , 0.03", UniformLatency(low=0.01, high=0.03)),
        ("normal:0.02,0.005", NormalLatency(mean=0.02, stddev=0.005)),
        ("lognormal:0.02,0.5", LognormalLatency(median=0.02, sigma=0.5)),
        ("LogNormal:0.02,0.5", LognormalLatency(median=0.02, sigma=0.5)),
    ],
)
def test_parse_latency_text(text: str, expected: object) -> None:
    assert parse_latency_text(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "value is not a number: ''"),
        ("fast", "value is not a number: 'fast'"),
        ("-0.5", "fixed.value"),
        ("gamma:1,2", "unknown latency distribution 'gamma'"),
        ("uniform:0.01", "uniform latency takes 2 number(s) (low,high), got 1"),
        ("uniform:1,2,3", "got 3"),
        ("normal:0.02,x", "normal latency: stddev is not a number: 'x'"),
        ("uniform:0.3,0.1", "high (0.1) must be >= low (0.3)"),
        ("lognormal:0,1", "lognormal.median"),
        ("normal:nan,1", "normal.mean"),
    ],
)
def test_parse_latency_text_errors_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="latency") as caught:
        parse_latency_text(text)
    assert problem in str(caught.value)
    assert repr(text) in str(caught.value)


@settings(deadline=None)
@given(specs())
def test_format_then_parse_text_round_trips(
    spec: LatencyDistribution,
) -> None:
    assert parse_latency_text(format_latency(spec)) == spec


# --- sampling ---------------------------------------------------------------------------------------------------


@settings(deadline=None)
@given(specs(), st.integers(min_value=0, max_value=2**32))
def test_samples_are_finite_non_negative_and_within_bounds(spec: LatencyDistribution, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        value = sample(spec, rng)
        assert math.isfinite(value)
        assert value >= 0
        if isinstance(spec, FixedLatency):
            assert value == spec.value
        elif isinstance(spec, UniformLatency):
            assert spec.low <= value <= spec.high


@settings(deadline=None)
@given(specs(), st.integers(min_value=0, max_value=2**32))
def test_a_seeded_rng_replays_the_same_delays(spec: LatencyDistribution, seed: int) -> None:
    rng_a, rng_b = random.Random(seed), random.Random(seed)
    assert [sample(spec, rng_a) for _ in range(10)] == [sample(spec, rng_b) for _ in range(10)]


def test_different_seeds_give_different_delays() -> None:
    spec = UniformLatency(low=0.0, high=1.0)
    assert [sample(spec, random.Random(1)) for _ in range(3)] != [sample(spec, random.Random(2)) for _ in range(3)]


def test_normal_draws_below_zero_are_clamped_to_zero() -> None:
    rng = random.Random(7)
    draws = [sample(NormalLatency(mean=0.0, stddev=1.0), rng) for _ in range(2000)]
    assert min(draws) == 0.0
    assert 0.4 < draws.count(0.0) / len(draws) < 0.6  # half of N(0, 1) is negative


@pytest.mark.parametrize(
    ("spec", "median", "mean"),
    [
        (UniformLatency(low=0.01, high=0.03), 0.02, 0.02),
        (NormalLatency(mean=0.5, stddev=0.05), 0.5, 0.5),
        (LognormalLatency(median=0.02, sigma=0.5), 0.02, 0.02 * math.exp(0.5**2 / 2)),
    ],
)
def test_sample_statistics_match_the_distribution(
    spec: UniformLatency | NormalLatency | LognormalLatency, median: float, mean: float
) -> None:
    rng = random.Random(12345)
    draws = [sample(spec, rng) for _ in range(20_000)]
    assert statistics.median(draws) == pytest.approx(median, rel=0.03)
    assert statistics.fmean(draws) == pytest.approx(mean, rel=0.03)


# --- profiles ---------------------------------------------------------------------------------------------------


def test_profile_parses_the_documented_json_shape() -> None:
    profile = LatencyProfile.parse({"ttft": 0.2, "itl": {"dist": "uniform", "low": 0.01, "high": 0.03}})
    assert profile == LatencyProfile(ttft=FixedLatency(value=0.2), itl=UniformLatency(low=0.01, high=0.03))


def test_profile_parses_yaml_with_cli_strings() -> None:
    data = yaml.safe_load("ttft: lognormal:0.3,0.4\nitl: 0.02\n")
    assert LatencyProfile.parse(data) == LatencyProfile(
        ttft=LognormalLatency(median=0.3, sigma=0.4), itl=FixedLatency(value=0.02)
    )


def test_profile_parts_are_optional_and_default_to_no_delay() -> None:
    """What the dispatcher delivers under a profile (``shaping_for``, as it calls it): a missing part is no delay."""
    rng = random.Random(0)
    profile = LatencyProfile.parse({"itl": 0.01})
    assert profile.ttft is None
    only_itl = shaping_for(None, profile, rng)
    assert only_itl.ttft == 0.0
    assert only_itl.itl is not None
    assert only_itl.itl() == 0.01
    only_ttft = shaping_for(None, LatencyProfile.parse({"ttft": 0.2}), rng)
    assert (only_ttft.ttft, only_ttft.itl) == (0.2, None)
    assert LatencyProfile.parse({}) == LatencyProfile()
    nothing = shaping_for(None, LatencyProfile(), rng)
    assert (nothing.ttft, nothing.itl) == (0.0, None)


def test_profile_parse_accepts_a_profile() -> None:
    profile = LatencyProfile(ttft=FixedLatency(value=1))
    assert LatencyProfile.parse(profile) is profile


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"ttft": -1}, "ttft.fixed.value"),
        ({"tft": 0.1}, "tft: Extra inputs are not permitted"),
        ({"itl": {"dist": "uniform", "low": "x", "high": 1}}, "itl.uniform.low"),
        ({"itl": "uniform:1"}, "itl: uniform latency takes 2"),
        (0.2, "must be a mapping"),
        (None, "must be a mapping"),
    ],
)
def test_profile_errors_name_the_bad_field(data: object, problem: str) -> None:
    with pytest.raises(ValueError, match="latency profile") as caught:
        LatencyProfile.parse(data)
    assert problem in str(caught.value)


def test_profile_dump_round_trips_through_json() -> None:
    profile = LatencyProfile(ttft=NormalLatency(mean=0.2, stddev=0.01), itl=None)
    assert LatencyProfile.parse(json.loads(profile.model_dump_json())) == profile
