"""``MockServer``: the fake served by uvicorn on a loopback port in a background thread, for tests, and the
Python API to script it (rules, the journal, counters, canned replies)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import uvicorn

from .app import MockApp, create_app
from .config.settings import CannedReply, ServerConfig
from .faults.engine import ActiveRule
from .faults.rules import Match, Rule, parse_rules
from .http.edge import uvicorn_config
from .scripting import RuleBuilder
from .state.journal import JournalEntry
from .state.server_state import ServerState

__all__ = ["MockServer", "bind_socket", "is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address) stays on this machine: ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP;
    # without it every reply written in two parts waits ~40 ms for the peer's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
        self.app: MockApp = create_app(self.config)
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

    # -- scripting ---------------------------------------------------------------------------------------------

    def on(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        model: str | None = None,
        stream: bool | None = None,
        header: Mapping[str, str] | None = None,
    ) -> RuleBuilder:
        """Start a rule for the matching requests: ``server.on(path=...).fail(429, retry_after_ms=20).times(2)``."""
        match = Match(path=path, method=method, model=model, stream=stream, header=dict(header) if header else None)
        return RuleBuilder(match, self.state.rules, self.state.journal.entries)

    def add_rules(self, *rules: Rule | Mapping[str, Any] | Iterable[Rule | Mapping[str, Any]]) -> list[str]:
        """Add rules (values or their JSON shape; lists are flattened), all or none; returns their ids."""
        flat: list[Any] = []
        for item in rules:
            if isinstance(item, Rule | Mapping):
                flat.append(item)
            else:
                flat.extend(item)
        data = [item.model_dump(exclude_none=True) if isinstance(item, Rule) else dict(item) for item in flat]
        return self.state.rules.add(parse_rules(data))

    def rules(self) -> list[ActiveRule]:
        return self.state.rules.rules()

    def clear_rules(self) -> None:
        self.state.rules.clear()

    def queue_replies(self, *replies: CannedReply | str) -> None:
        """Serve these (texts or canned replies), in order, instead of generated content."""
        self.state.push_replies(*replies)

    def reset(self) -> None:
        """Forget scripted rules, the journal and stored objects (back to what the config says)."""
        self.state.reset()

    @property
    def journal(self) -> list[JournalEntry]:
        """Every request the journal holds, oldest first."""
        return self.state.journal.entries()

    def journal_for(self, path: str | None = None, method: str | None = None) -> list[JournalEntry]:
        return [
            entry
            for entry in self.state.journal.entries()
            if (path is None or entry.path == path) and (method is None or entry.method == method.upper())
        ]

    def stats(self) -> dict[str, int]:
        """``{"open_streams", "in_flight", "requests"}``."""
        return self.state.stats.snapshot()

    # -- running -------------------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        self.state.stopping.arm()
        sock = bind_socket(self.host, self._requested_port)
        self._port = sock.getsockname()[1]
        config = uvicorn_config(
            self.app,
            self.config,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=self._shutdown_timeout,
            access_log=False,
        )
        server = uvicorn.Server(config)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                # uvicorn's own loop choice (uvloop when installed), as ``mockserver serve`` runs
                server.run(sockets=[sock])
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
        # wake hung requests first, so the graceful shutdown does not wait for them
        self.state.stopping.trigger()
        server.should_exit = True
        thread.join(self._shutdown_timeout + 5)
        if thread.is_alive():  # pragma: no cover - a stuck shutdown
            server.force_exit = True
            thread.join(5)
        self._server = self._thread = None
        self._port = None
        if self.state.shared is not None:
            self.state.shared.close()

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
