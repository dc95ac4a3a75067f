"""Which event loop the client's tests run on: ``CLIENT_TEST_LOOP`` = ``asyncio`` (the default) or ``uvloop``."""

from __future__ import annotations

import os

import pytest

__all__ = ["LOOP_ENV", "chosen_loop"]

#: environment variable naming the loop: ``asyncio`` (the default) or ``uvloop``
LOOP_ENV = "CLIENT_TEST_LOOP"


def chosen_loop() -> str:
    name = os.environ.get(LOOP_ENV, "asyncio")
    if name not in ("asyncio", "uvloop"):
        raise pytest.UsageError(f"{LOOP_ENV} must be 'asyncio' or 'uvloop', not {name!r}")
    return name
