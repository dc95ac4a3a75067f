"""The event loop the client's tests run on: the default asyncio loop, or uvloop with ``CLIENT_TEST_LOOP=uvloop``
(CI runs tests/client once on each; see ci/test.sh)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest
from event_loops import chosen_loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if chosen_loop() == "uvloop":
        import uvloop

        return {"uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}
