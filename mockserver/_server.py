"""``MockServer``: the fake served by uvicorn on a loopback port in a background thread, for tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette

from ._app import create_app
from ._config import ServerConfig
from ._state import ServerState

__all__ = ["MockServer", "bind_socket"]


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class MockServer:
    """A running fake OpenAI server on ``127.0.0.1`` and a free port.

    Use it as a context manager (``with`` or ``async with``); it is always shut down on exit, even when the
    body raised. ``base_url`` is what to give a client.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: int = 2,
    ) -> None:
        self.config = config if config is not None else ServerConfig()
        self.host = host
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self.app: Starlette = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.mock
        return state

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; call start() or use it as a context manager")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client, ending in ``/v1``."""
        return f"{self.url}/v1"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        sock = bind_socket(self.host, self._requested_port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=self._shutdown_timeout,
            access_log=False,
        )
        server = uvicorn.Server(config)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
            finally:
                sock.close()

        thread = threading.Thread(target=run, name=f"mockserver:{self._port}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        while not server.started and thread.is_alive():
            thread.join(0.005)
        if not server.started:
            self._server = self._thread = None
            raise RuntimeError(f"the mock server failed to start: {failure[0] if failure else 'unknown'}")
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self._shutdown_timeout + 5)
        if thread.is_alive():  # pragma: no cover - a stuck shutdown
            server.force_exit = True
            thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
