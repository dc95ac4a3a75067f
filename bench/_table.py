"""Plain-text tables for benchmark results: a header, a rule, and aligned cells (numbers to the right)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

from ._result import BenchResult, Column

__all__ = ["format_cell", "format_table", "render"]

#: what a missing value prints as
MISSING = "-"


def format_cell(value: Any, spec: str = "") -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value, spec) if spec else str(value)


def format_table(columns: Sequence[Column], rows: Sequence[Any]) -> str:
    """Rows are mappings from column keys to raw values; the text ends without a newline."""
    cells = [[format_cell(row.get(column.key), column.format) for column in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(column.key), Number) or row.get(column.key) is None for row in rows)
        for column in columns
    ]
    widths = [max([len(column.title), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    header = line([column.title for column in columns])
    rule = "  ".join("-" * width for width in widths)
    return "\n".join([header, rule, *(line(values) for values in cells)])


def render(result: BenchResult) -> str:
    """The table of ``result`` under its name, with its notes after it."""
    parts = [f"== {result.benchmark}", format_table(result.columns, result.rows)]
    parts.extend(f"  {note}" for note in result.notes)
    return "\n".join(parts)
