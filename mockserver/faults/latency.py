"""Latency specs: how long the server waits before the first byte (TTFT) and between stream events (ITL).

A spec is a JSON/YAML-friendly value in seconds:

- a number, ``0.2``: always that long (same as ``{"dist": "fixed", "value": 0.2}``);
- ``{"dist": "uniform", "low": 0.01, "high": 0.03}``: uniform on ``[low, high]``;
- ``{"dist": "normal", "mean": 0.02, "stddev": 0.005}``: Gaussian, negative draws clamped to 0;
- ``{"dist": "lognormal", "median": 0.02, "sigma": 0.5}``: ``exp(N(ln median, sigma))``. We take the
  *median* rather than ``mu`` because it is in seconds like every other field (``mu = ln(median)``);
  ``sigma`` is the shape, the standard deviation of the underlying normal.

A string in the CLI syntax (``"uniform:0.01,0.03"``, see :func:`parse_latency_text`) is accepted wherever a
spec is. Sampling is pure: :func:`sample` draws from a caller-owned :class:`random.Random`, so a seeded
generator gives the same delays on every run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

__all__ = [
    "LONGEST_DELAY",
    "WIDEST_SIGMA",
    "FixedLatency",
    "LatencyDistribution",
    "LatencyProfile",
    "LatencySpec",
    "LognormalLatency",
    "NormalLatency",
    "UniformLatency",
    "format_latency",
    "parse_latency",
    "parse_latency_text",
    "sample",
]

#: the longest delay a spec may ask for or draw (an hour): finite, and within what a timer can carry
LONGEST_DELAY = 3600.0
#: the widest lognormal shape: ``exp`` of its draws stays finite (and is clamped to ``LONGEST_DELAY`` anyway)
WIDEST_SIGMA = 10.0
#: a finite number of seconds, 0..an hour
_Seconds = Annotated[float, Field(ge=0, le=LONGEST_DELAY, allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FixedLatency(_Spec):
    """Always ``value`` seconds."""

    dist: Literal["fixed"] = "fixed"
    value: _Seconds

    def sample(self, rng: random.Random) -> float:
        return self.value


class UniformLatency(_Spec):
    """Uniform on ``[low, high]`` seconds."""

    dist: Literal["uniform"] = "uniform"
    low: _Seconds
    high: _Seconds

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


class NormalLatency(_Spec):
    """Gaussian with ``mean`` and ``stddev`` seconds; a negative draw becomes 0."""

    dist: Literal["normal"] = "normal"
    mean: _Seconds
    stddev: _Seconds

    def sample(self, rng: random.Random) -> float:
        return min(max(0.0, rng.normalvariate(self.mean, self.stddev)), LONGEST_DELAY)


class LognormalLatency(_Spec):
    """Log-normal with ``median`` seconds (``mu = ln(median)``) and shape ``sigma``."""

    dist: Literal["lognormal"] = "lognormal"
    median: Annotated[float, Field(gt=0, le=LONGEST_DELAY, allow_inf_nan=False)]
    #: the shape (not seconds): 0..``WIDEST_SIGMA``
    sigma: Annotated[float, Field(ge=0, le=WIDEST_SIGMA, allow_inf_nan=False)]

    def sample(self, rng: random.Random) -> float:
        return min(rng.lognormvariate(math.log(self.median), self.sigma), LONGEST_DELAY)


#: any parsed latency spec
LatencyDistribution = FixedLatency | UniformLatency | NormalLatency | LognormalLatency

#: the parameter names of each distribution, in the order the CLI syntax takes them
_PARAMETERS: Mapping[str, tuple[type[_Spec], tuple[str, ...]]] = {
    "fixed": (FixedLatency, ("value",)),
    "uniform": (UniformLatency, ("low", "high")),
    "normal": (NormalLatency, ("mean", "stddev")),
    "lognormal": (LognormalLatency, ("median", "sigma")),
}


def _coerce(value: Any) -> Any:
    """Numbers become fixed specs and strings are read in the CLI syntax; mappings pass through unchanged."""
    if isinstance(value, bool):
        raise ValueError("a latency must be a number of seconds or a distribution, not a boolean")
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    if isinstance(value, str):
        return parse_latency_text(value)
    if isinstance(value, _Spec):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"a latency must be a number of seconds, a distribution or text, not {type(value).__name__}")
    dist = value.get("dist")
    if not isinstance(dist, str) or dist not in _PARAMETERS:
        expected = ", ".join(_PARAMETERS)
        raise ValueError(f"dist must be one of: {expected} (got {dist!r})")
    return value


#: a latency spec as a pydantic field type: ``ttft: LatencySpec | None = None``
LatencySpec = Annotated[LatencyDistribution, Field(discriminator="dist"), BeforeValidator(_coerce)]

_SPEC_ADAPTER: TypeAdapter[LatencyDistribution] = TypeAdapter(LatencySpec)


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def parse_latency(value: Any) -> LatencyDistribution:
    """A spec from its JSON shape (a number, a mapping with ``dist``, or CLI text); ``ValueError`` names the
    bad field."""
    try:
        return _SPEC_ADAPTER.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f"invalid latency: {_describe(exc)}") from None


def parse_latency_text(text: str) -> LatencyDistribution:
    """A spec from command-line text: ``"0.2"``, ``"fixed:0.2"``, ``"uniform:LOW,HIGH"``,
    ``"normal:MEAN,STDDEV"`` or ``"lognormal:MEDIAN,SIGMA"`` (seconds)."""
    name, colon, rest = text.strip().partition(":")
    if not colon:
        name, rest = "fixed", text
    name = name.strip().lower()
    if name not in _PARAMETERS:
        expected = ", ".join(_PARAMETERS)
        raise ValueError(f"unknown latency distribution {name!r} in {text!r}; expected one of: {expected}")
    model, names = _PARAMETERS[name]
    numbers = [piece.strip() for piece in rest.split(",")]
    if len(numbers) != len(names):
        raise ValueError(
            f"{name} latency takes {len(names)} number(s) ({','.join(names)}), got {len(numbers)} in {text!r}"
        )
    fields: dict[str, float] = {}
    for field, number in zip(names, numbers, strict=True):
        try:
            fields[field] = float(number)
        except ValueError:
            raise ValueError(f"{name} latency: {field} is not a number: {number!r} in {text!r}") from None
    try:
        spec = model.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(f"invalid latency {text!r}: {name}.{_describe(exc)}") from None
    return _SPEC_ADAPTER.validate_python(spec)


def format_latency(spec: LatencyDistribution) -> str:
    """The CLI text of ``spec``; ``parse_latency_text(format_latency(spec)) == spec``."""
    _, names = _PARAMETERS[spec.dist]
    numbers = ",".join(repr(getattr(spec, name)) for name in names)
    return numbers if spec.dist == "fixed" else f"{spec.dist}:{numbers}"


def sample(spec: LatencyDistribution, rng: random.Random) -> float:
    """One delay in seconds (>= 0) drawn from ``spec`` with ``rng``."""
    return spec.sample(rng)


class LatencyProfile(_Spec):
    """The delays of one reply: ``ttft`` before the first byte, ``itl`` between stream events; ``None`` = no
    delay."""

    ttft: LatencySpec | None = None
    itl: LatencySpec | None = None

    @classmethod
    def parse(cls, data: Any) -> LatencyProfile:
        """A profile from its JSON shape, e.g. ``{"ttft": 0.2, "itl": {"dist": "uniform", "low": 0.01,
        "high": 0.03}}``; ``ValueError`` names the bad field."""
        if isinstance(data, LatencyProfile):
            return data
        if not isinstance(data, Mapping):
            raise ValueError(f"a latency profile must be a mapping with ttft and/or itl, not {type(data).__name__}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ValueError(f"invalid latency profile: {_describe(exc)}") from None
