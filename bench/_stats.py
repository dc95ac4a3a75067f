"""Summary statistics for timing samples (median, 99th percentile, maximum) in one small value."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    median: float
    #: the 99th percentile, interpolating linearly between the closest ranks
    p99: float
    max: float


def summarize(values: Sequence[float]) -> Summary:
    """Summarize at least one sample; ``statistics.StatisticsError`` (a ``ValueError``) for none."""
    if not values:
        raise statistics.StatisticsError("no samples to summarize")
    # "inclusive" treats the samples as the whole population: the 99th percentile of 0..100 is 99.
    # quantiles() needs two samples before Python 3.13; one sample is every percentile of itself.
    p99 = statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]
    return Summary(len(values), statistics.median(values), p99, max(values))
