"""The conformance report: properties x clients, each cell pass / FAIL / known deviation, with the violated
properties and the deviations' reasons listed under the table; as plain text or as markdown for a README."""

from __future__ import annotations

from collections.abc import Sequence

from ._runner import PropertyResult

__all__ = ["CELL_TEXT", "format_report", "report_failed"]

CELL_TEXT = {"pass": "pass", "fail": "FAIL", "known deviation": "known deviation", "deviation fixed": "XPASS"}


def report_failed(results: Sequence[PropertyResult]) -> bool:
    """A failure, or a known deviation that no longer fails (the deviation list is then out of date)."""
    return any(result.verdict in ("fail", "deviation fixed") for result in results)


def format_report(results: Sequence[PropertyResult], *, markdown: bool = False) -> str:
    targets = list(dict.fromkeys(result.target for result in results))
    properties = list(dict.fromkeys(result.property for result in results))
    cells = {(result.property, result.target): CELL_TEXT[result.verdict] for result in results}
    header = ["property", *targets]
    rows = [[prop, *(cells.get((prop, target), "-") for target in targets)] for prop in properties]
    table = _markdown_table(header, rows) if markdown else _text_table(header, rows)
    notes = _notes(results, markdown=markdown)
    return table + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    rule = "  ".join("-" * width for width in widths)
    head = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()
    return "\n".join([head, rule, *lines])


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join([f"`{row[0]}`", *row[1:]]) + " |" for row in rows]
    return "\n".join(lines)


def _notes(results: Sequence[PropertyResult], *, markdown: bool) -> list[str]:
    bullet = "- " if markdown else "* "
    notes = []
    for result in results:
        if result.verdict == "fail":
            notes.append(f"{bullet}{result.target}: FAIL {result.property}: {_one_line(result.detail)}")
        elif result.verdict == "known deviation":
            notes.append(f"{bullet}{result.target}: known deviation {result.property}: {_one_line(result.detail)}")
        elif result.verdict == "deviation fixed":
            listed = f"passes but is listed as a deviation ({result.detail})"
            notes.append(f"{bullet}{result.target}: {result.property} {listed}")
    return notes


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
