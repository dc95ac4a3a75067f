"""``mockserver serve --workers N``: N server processes sharing one listening socket, for throughput.

The parent binds the socket and validates the config, then uvicorn's process supervisor starts N workers (spawned,
not forked), each building its own app from the config handed down in :data:`CONFIG_ENV`. Each worker has its own
state - scripted rules and their counts, the journal, canned replies, counters, stored objects, rate-limit buckets -
and the control API (``/_mock/...``) acts on whichever worker accepted that connection. So anything that scripts the
fake or reads back what it saw needs a single process (the default, ``--workers 1``); several workers suit plain
load: generated replies, and faults that come from the config (every worker applies them on its own). With
``--state redis://...`` the workers share one state instead and behave as one fake (docs/shared-state.md).
"""

from __future__ import annotations

import os
import socket

from uvicorn.supervisors import Multiprocess

from ..app import MockApp, create_app
from ..config.settings import ServerConfig
from ..http.edge import uvicorn_config

__all__ = ["CONFIG_ENV", "MULTI_WORKER_WARNING", "serve_workers", "worker_app"]

#: the environment variable that carries the config (JSON) to every worker
CONFIG_ENV = "MOCKSERVER_WORKER_CONFIG"

MULTI_WORKER_WARNING = (
    "each worker keeps its own rules, journal, canned replies, counters and stored objects; the control API "
    "(/_mock/...) reaches one worker per connection - script the fake and read its journal with --workers 1"
)


def unreachable_state(config: ServerConfig) -> str | None:
    """Why the shared state ``config.state`` names cannot be used now, or ``None`` when Redis answers."""
    try:
        from ..state.redis.connection import RedisLocation, StateUnavailable
    except ImportError:
        return "--state redis://... needs the redis package: pip install 'openai-async-harness[redis]'"
    client = RedisLocation.parse(config.state).sync_client()
    try:
        client.ping()
    except StateUnavailable as exc:
        return f"cannot reach the shared state's Redis ({exc}); is it running?"
    finally:
        client.close()
    return None


def worker_app() -> MockApp:
    """The app of one worker (uvicorn's factory, run in the worker process)."""
    return create_app(ServerConfig.model_validate_json(os.environ[CONFIG_ENV]))


def serve_workers(config: ServerConfig, sock: socket.socket, *, workers: int, log_level: str) -> None:
    """Serve ``config`` from ``workers`` processes on ``sock`` until interrupted."""
    os.environ[CONFIG_ENV] = config.model_dump_json()
    settings = uvicorn_config(
        f"{__name__}:worker_app", config, factory=True, workers=workers, log_level=log_level, lifespan="off"
    )
    Multiprocess(settings, sockets=[sock]).run()
