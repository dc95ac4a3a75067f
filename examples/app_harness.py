"""Helpers for testing the example web apps: load a fresh copy of an app module, run an ASGI app's lifespan.

The guide's apps build their OpenAI client when the module is imported, from ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY``, and close it when the app shuts down. So a test loads the module after the ``mock_openai``
fixture has set those variables, and runs the app's startup and shutdown around its requests.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

__all__ = ["app_client", "load_fresh"]

_HERE = Path(__file__).resolve().parent
_copies = itertools.count()


def load_fresh(name: str) -> ModuleType:
    """A new copy of ``examples/<name>.py`` (not put in ``sys.modules``): a new app and a new client."""
    spec = importlib.util.spec_from_file_location(f"{name}_copy_{next(_copies)}", _HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """Startup on entry, shutdown on exit, through the ASGI lifespan protocol (as a server would)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    running = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        stopped = await from_app.get()
        await running
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


@asynccontextmanager
async def app_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``app`` in-process, with the app started before and shut down after.

    An exception in the app becomes a 500 response, as a real server would send.
    """
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with _lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
        yield http
