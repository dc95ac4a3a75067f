"""Stateful resources: how long prepopulating 10,000 items of each kind takes, what one cursor page costs at the
start and deep into a large store (it should not grow with depth), and a whole ``/v1/files`` walk over HTTP.

Run it as ``python -m bench stateful``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import httpx

from mockserver import MockServer, Prepopulate, ServerConfig

from ._result import BenchResult, Column
from ._table import render

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "prepopulation time per kind, cursor page cost by depth, and a full files walk over HTTP"
KINDS = ("files", "fine_tuning_jobs", "batches", "chat_completions")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--items", type=int, default=10_000, help="items prepopulated per kind")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--page-size", type=int, default=100, help="limit of each listed page")


def _median_ms(repeat: int, action: Callable[[], object]) -> dict[str, float]:
    """Median wall-clock and CPU milliseconds of ``repeat`` runs (CPU time is the steadier on a busy box)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}


def _prepopulation_rows(items: int, repeat: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for kind in KINDS:
        config = ServerConfig(prepopulate=Prepopulate(**{kind: items}))
        # a MockServer that is not started builds its app and state (prepopulation included) and binds nothing
        rows.append({"what": f"prepopulate {items} {kind}", **_median_ms(repeat, partial(MockServer, config))})
    return rows


def _page_rows(items: int, repeat: int, page_size: int) -> list[dict[str, object]]:
    state = MockServer(ServerConfig(prepopulate=Prepopulate(files=items))).state
    ids = [item["id"] for item in state.files]
    rows: list[dict[str, object]] = []
    for label, after in (("first", None), ("middle", ids[len(ids) // 2]), ("last", ids[-page_size])):
        page = partial(state.files.page, after=after, limit=page_size, order="asc")
        rows.append(
            {"what": f"store.page limit={page_size}, {label} page of {items}", **_median_ms(repeat * 100, page)}
        )
    return rows


def _walk(client: httpx.Client, page_size: int) -> int:
    """List every file page by page; the number of pages."""
    pages, after = 0, None
    while True:
        params: dict[str, str | int] = {"limit": page_size, **({"after": after} if after else {})}
        body = client.get("/files", params=params).json()
        pages += 1
        if not body["has_more"]:
            return pages
        after = body["last_id"]


def run(args: argparse.Namespace) -> BenchResult:
    rows = _prepopulation_rows(args.items, args.repeat) + _page_rows(args.items, args.repeat, args.page_size)
    config = ServerConfig(prepopulate=Prepopulate(files=args.items))
    with (
        MockServer(config) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer sk-bench"}) as client,
    ):
        pages = _walk(client, args.page_size)
        total = _median_ms(args.repeat, partial(_walk, client, args.page_size))
    rows.append({"what": f"HTTP walk of {args.items} files, {pages} pages", **total})
    rows.append({"what": "  ... per page", **{key: value / pages for key, value in total.items()}})
    return BenchResult(
        benchmark="stateful",
        columns=(Column("what", "measurement"), Column("ms", "median ms", ".3f"), Column("cpu_ms", "cpu ms", ".3f")),
        rows=tuple(rows),
        details={"items": args.items, "repeat": args.repeat, "page_size": args.page_size},
        notes=(
            "The HTTP walk runs the server in a thread of this process: its CPU time is client and server together.",
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stateful", description=DESCRIPTION)
    add_arguments(parser)
    print(render(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
