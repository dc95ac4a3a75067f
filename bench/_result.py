"""What a benchmark returns: titled columns and rows of raw values, printable as a table and dumpable as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BenchResult", "Column"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the ``key`` of its value in each row, a ``title`` for the table, and a format spec for it."""

    key: str
    title: str
    format: str = ""


@dataclass(frozen=True, slots=True)
class BenchResult:
    """A benchmark's results. ``rows`` hold raw values (numbers stay numbers in JSON); ``details`` is anything
    else worth keeping (settings, raw summaries)."""

    benchmark: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    details: Mapping[str, Any] = field(default_factory=dict)
    #: a line or two under the table saying how to read it
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "columns": [column.key for column in self.columns],
            "rows": [dict(row) for row in self.rows],
            "details": dict(self.details),
            "notes": list(self.notes),
        }
