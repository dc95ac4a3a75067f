"""The HTTP edge: what a connection may cost before any request reaches the app.

uvicorn's own settings do what they can: ``limit_concurrency`` (a 503 past that many connections or tasks),
``h11_max_incomplete_event_size`` (h11's header size limit) and ``timeout_graceful_shutdown``. What uvicorn has no
setting for is added by thin subclasses of its protocols (h11 and httptools alike):

- a **header-read timeout**: a connection that has not sent a whole request head within ``header_read_timeout``
  seconds of connecting (or of the first byte of its next request) is closed, so slowloris clients cannot hold
  sockets; an idle keep-alive connection is uvicorn's to close (``timeout_keep_alive``);
- a **header size limit** with httptools (h11 has its own): a head larger than ``max_header_bytes`` is answered
  ``431`` and the connection closed;
- a **connection cap**: past ``max_connections`` open connections (never more than the process's file-descriptor
  limit allows, less a reserve), a new connection is closed at once, so ``/health`` still finds a descriptor.

And one thing for speed: uvicorn writes a response's head and its body with two ``write`` calls, each a system call
and a packet of its own. :class:`CoalescingTransport` joins what a connection writes in one turn of the event loop
and sends it at the end of that turn, so a reply sent at once leaves in one ``send`` (a quarter of the server's CPU
per non-stream reply), and so do stream events written back to back. Nothing waits longer than the turn it was
written in: delays, paced events and hangs are unchanged, and ``close`` sends what is pending first. The
header-read clock and (with httptools) uvicorn's keep-alive clock are lazy deadlines (:class:`_Deadline`): one
timer per connection, armed when needed, rather than a timer made and cancelled for every request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config.settings import ServerConfig
from ..wire.errors import error_body
from ..wire.json_codec import dumps
from .at_once import AtOnceLane, AtOnceResponse
from .dispatch import Endpoint

__all__ = ["CoalescingTransport", "EdgeLimits", "edge_limits", "edge_protocol", "uvicorn_config"]

#: file descriptors kept free for everything that is not a client connection (the listening socket, logs, the
#: event loop's own, files the API stores)
FD_RESERVE = 64
#: how long a shutdown waits for requests in flight before cancelling them (SIGTERM exits within 2 s)
GRACEFUL_SHUTDOWN_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    header_read_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1_000


def edge_limits(config: ServerConfig) -> EdgeLimits:
    """The config's limits, the connection cap lowered to what the file-descriptor limit allows."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = config.max_connections
    if soft != resource.RLIM_INFINITY:
        cap = max(1, min(cap, soft - FD_RESERVE))
    return EdgeLimits(config.header_read_timeout, config.max_header_bytes, cap)


class _Deadline:
    """A clock that runs while something is due (a request's head, the next request on an idle connection), with
    ``expired`` called once it has run for ``seconds``.

    One timer, armed lazily: :meth:`start` notes when the clock started and arms the timer if none is armed;
    :meth:`stop` only clears that note. The timer, when it fires, calls ``expired`` if the clock has run for the
    whole time, waits on for a clock started more recently, and lets itself lapse when none runs (the next start
    arms it again). So a request on a busy keep-alive connection costs a clock reading, not a timer made and
    cancelled."""

    __slots__ = ("_expired", "_loop", "_seconds", "_since", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._seconds = seconds
        self._expired = expired
        self._timer: asyncio.TimerHandle | None = None
        #: the loop time the clock started, or ``None`` when it does not run
        self._since: float | None = None

    @property
    def running(self) -> bool:
        return self._since is not None

    def start(self) -> None:
        self._since = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_later(self._seconds, self._check)

    def stop(self) -> None:
        self._since = None

    def cancel(self) -> None:
        """Stop, and drop the timer (the connection is gone)."""
        self._since = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        since = self._since
        if since is None:
            return  # the clock does not run: the next start arms the timer again
        left = since + self._seconds - self._loop.time()
        if left > 0:  # the clock running now started after this timer was armed
            self._timer = self._loop.call_later(left, self._check)
            return
        self._since = None
        self._expired()


class _HeadGuard:
    """The edge rules for one connection; the protocol tells it what happens. The header-read clock is a
    :class:`_Deadline`: a request head that is due starts it, one that arrives stops it."""

    def __init__(self, protocol: Any, limits: EdgeLimits) -> None:
        self._protocol = protocol
        self._limits = limits
        self._head_clock = _Deadline(protocol.loop, limits.header_read_timeout, self._head_late)
        #: bytes received while the head was incomplete, and bytes of the header lines parsed
        self._head_bytes = 0
        self._header_bytes = 0

    def connected(self, transport: asyncio.Transport) -> bool:
        """A new connection: False (and closed) when it is one too many; else the head timer starts."""
        if len(self._protocol.connections) > self._limits.max_connections:
            transport.close()
            return False
        self.await_head()
        return True

    def await_head(self) -> None:
        """A request head is due: start its clock."""
        self._head_clock.start()
        self._head_bytes = self._header_bytes = 0

    def bytes_arrived(self) -> None:
        """Bytes came in: when no request is open, they start the next request's head (and its clock)."""
        if not self._head_clock.running:
            cycle = self._protocol.cycle
            if cycle is None or cycle.response_complete:
                self.await_head()

    def head_arrived(self) -> None:
        self._head_clock.stop()

    def closed(self) -> None:
        """The connection is gone: no clock runs for it any more."""
        self._head_clock.cancel()

    @property
    def awaiting_head(self) -> bool:
        return self._head_clock.running

    def received(self, size: int) -> bool:
        """``size`` more bytes before the head was complete; False (answered 431 and closed) past the limit."""
        self._head_bytes += size
        if self._head_bytes <= self._limits.max_header_bytes:
            return True
        self.refuse_head()
        return False

    def head_fits(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the parsed head with these header lines is within the limit."""
        # each line is its name, ": ", its value and its end; the names and values counted in one join, in C
        self._header_bytes = len(b"".join(chain.from_iterable(headers))) + 4 * len(headers)
        return self._header_bytes <= self._limits.max_header_bytes

    @property
    def head_too_large(self) -> bool:
        return self._header_bytes > self._limits.max_header_bytes

    def refuse_head(self) -> None:
        """Answer 431 and close."""
        self.head_arrived()
        message = f"Request header fields too large: the limit is {self._limits.max_header_bytes} bytes."
        body = dumps(error_body(message, type="invalid_request_error", code="request_header_fields_too_large"))
        transport = self._protocol.transport
        transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        )
        transport.close()

    def _head_late(self) -> None:
        """The head due has not come in time: close the connection, unless a request is being answered (its
        head came in time)."""
        cycle = self._protocol.cycle
        if cycle is not None and not cycle.response_complete:
            return
        transport = self._protocol.transport
        if not transport.is_closing():
            transport.close()


class CoalescingTransport:
    """A connection's transport whose writes in one turn of the event loop go out as one write at its end.

    ``close`` sends what is pending, then closes (a FIN after the bytes, as the transport's own ``close``);
    ``abort`` drops it with the connection (a reset loses unsent bytes, as the transport's own ``abort``)."""

    __slots__ = ("_loop", "_pending", "_scheduled", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending.append(bytes(data) if not isinstance(data, bytes) else data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Send what is pending now."""
        self._scheduled = False
        pending, self._pending = self._pending, []
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def __getattr__(self, name: str) -> Any:  # the rest of the transport's API, as it is
        return getattr(self.transport, name)


class _EdgeConnection:
    """What both edge protocols do with a connection: the guard made with it, told when it starts and ends (put
    before uvicorn's protocol class in the bases)."""

    _guard: _HeadGuard
    transport: asyncio.Transport

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)  # type: ignore[call-arg]  # uvicorn's protocol, next in the MRO
        self._guard = _HeadGuard(self, getattr(config, "edge_limits", EdgeLimits()))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        # uvicorn's flow control keeps the transport itself; its request cycles write through the coalescer
        coalescing = CoalescingTransport(cast(asyncio.Transport, transport), asyncio.get_running_loop())
        self.transport = cast(asyncio.Transport, coalescing)  # it has every method a request cycle calls
        self._guard.connected(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.closed()
        super().connection_lost(exc)  # type: ignore[misc]


class EdgeH11Protocol(_EdgeConnection, H11Protocol):
    """uvicorn's h11 protocol with the edge rules (h11 limits the head's size itself)."""

    def data_received(self, data: bytes) -> None:
        self._guard.bytes_arrived()
        super().data_received(data)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._guard.head_arrived()


class _HeadTooLarge(Exception):
    """A request head over ``max_header_bytes`` (raised inside the parser to stop it)."""


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is an optional extra
        return None

    class EdgeHttpToolsProtocol(_EdgeConnection, HttpToolsProtocol):
        """uvicorn's httptools protocol with the edge rules, the head's size limit included, and the at-once
        lane (:mod:`.at_once`): a request the lane takes at its head has its cycle held back (no task is started),
        with the endpoint the lane found for it, until its body is in, then is answered by the lane, or
        (declined) started as uvicorn would have."""

        def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
            super().__init__(config, *args, **kwargs)
            # not when an access line is logged for each request: uvicorn's cycle writes those
            logged = self.access_log and self.access_logger.isEnabledFor(logging.INFO)
            self._lane: AtOnceLane | None = None if logged else _at_once_lane(config)
            #: inside ``on_headers_complete``: a cycle started now is a new request's, its body still to come
            self._heading = False
            #: the cycle held for the lane, waiting for its body, and the endpoint that is to answer it
            self._held: Any = None
            self._held_endpoint: Endpoint | None = None
            #: uvicorn's default headers (server, date) as last seen, and as written
            self._defaults: list[tuple[bytes, bytes]] | None = None
            self._defaults_head = b""
            #: uvicorn's keep-alive clock (an idle connection is closed after ``timeout_keep_alive``), as a lazy
            #: deadline rather than a timer made after every response and cancelled by the next request's bytes
            self._idle = _Deadline(self.loop, self.timeout_keep_alive, self.timeout_keep_alive_handler)

        def data_received(self, data: bytes) -> None:
            self._idle.stop()
            self._guard.bytes_arrived()
            awaiting = self._guard.awaiting_head
            super().data_received(data)
            # counted after parsing: a chunk that completes the head (and carries body bytes) is never refused
            if awaiting and self._guard.awaiting_head and not self._guard.received(len(data)):
                return
            if self._held is not None and self._held.body:
                # part of the body came and the rest did not: the app reads it as it comes (as it would have),
                # so a client that leaves now has the app see what it sent
                self._release()

        def send_400_response(self, msg: str) -> None:
            if self._guard.head_too_large:
                self._guard.refuse_head()
            else:
                super().send_400_response(msg)

        def on_headers_complete(self) -> None:
            # a head that came in one piece with its body: counted here, once, rather than line by line
            if not self._guard.head_fits(self.headers):
                raise _HeadTooLarge  # stops the parser; uvicorn then answers through send_400_response
            self._guard.head_arrived()
            self._heading = True
            try:
                super().on_headers_complete()
            finally:
                self._heading = False

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            lane = self._lane
            fresh = self._heading and app is self.app and not self.expect_100_continue  # not one queued, nor a 503
            if fresh and lane is not None:
                endpoint = lane.takes(cycle.scope)
                if endpoint is not None:
                    self._held, self._held_endpoint = cycle, endpoint
                    return
            super()._start_asgi_task(cycle, app)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            cycle, self._held = self._held, None
            if cycle is None:
                return
            # uvicorn's send would wait while the client does not read (and the protocol is to be done with it)
            if cycle is self.cycle and not cycle.response_complete and not cycle.flow.write_paused:
                lane, endpoint = self._lane, self._held_endpoint
                assert lane is not None
                assert endpoint is not None
                response = lane.answer(cast(dict[str, Any], cycle.scope), bytes(cycle.body), endpoint)
                if response is not None:
                    self._write_at_once(cycle, response)
                    return
            super()._start_asgi_task(cycle, self.app)

        def _release(self) -> None:
            """Start the held cycle's task, as uvicorn would have started it with the head."""
            cycle, self._held = self._held, None
            super()._start_asgi_task(cycle, self.app)

        def _write_at_once(self, cycle: Any, response: AtOnceResponse) -> None:
            """Send ``response`` whole and end ``cycle``, as uvicorn's cycle sends a response whose start and
            whole body it is given (its default headers first, ``connection: close`` when the connection is not
            kept, the next pipelined request started)."""
            defaults = self.server_state.default_headers  # a new list when the date changes
            if defaults is not self._defaults:
                self._defaults, self._defaults_head = defaults, _head(defaults)
            head = _head(response.headers) if cycle.keep_alive else _head([*response.headers, _CLOSE])
            whole = b"%s%s%s\r\n%s" % (STATUS_LINE[response.status], self._defaults_head, head, response.body)
            # at the turn's end with the others' (writing each at once costs far more: each may wake the client)
            self.transport.write(whole)
            cycle.response_started = cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                self.transport.close()
            cycle.on_response()

        def on_response_complete(self) -> None:
            # uvicorn's, the keep-alive clock started rather than a timer armed
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self.flow.resume_reading()
            if self.pipeline:  # the next pipelined request starts
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
            else:
                self._idle.start()

        def connection_lost(self, exc: Exception | None) -> None:
            self._idle.cancel()
            held = self._held is not None
            super().connection_lost(exc)
            if held:  # the client left before its body was in: the app hears of it as ever
                self._release()

    EdgeHttpToolsProtocol.__module__ = __name__
    EdgeHttpToolsProtocol.__qualname__ = "EdgeHttpToolsProtocol"
    return EdgeHttpToolsProtocol


#: the protocol class ``edge_protocol`` gives: httptools when installed (uvicorn's own choice), else h11
_HTTPTOOLS_PROTOCOL = _httptools_protocol()
if _HTTPTOOLS_PROTOCOL is not None:
    EdgeHttpToolsProtocol = _HTTPTOOLS_PROTOCOL


def edge_protocol() -> type[asyncio.Protocol]:
    """The HTTP protocol class to serve with: uvicorn's choice (httptools if installed, else h11), with the
    edge rules."""
    return _HTTPTOOLS_PROTOCOL if _HTTPTOOLS_PROTOCOL is not None else EdgeH11Protocol


def uvicorn_config(app: Any, config: ServerConfig, **settings: Any) -> uvicorn.Config:
    """A ``uvicorn.Config`` serving ``app`` under ``config``'s edge limits (``settings`` are uvicorn's own)."""
    limits = edge_limits(config)
    settings.setdefault("timeout_graceful_shutdown", GRACEFUL_SHUTDOWN_SECONDS)
    uvicorn_settings = uvicorn.Config(
        app,
        http=edge_protocol(),
        limit_concurrency=limits.max_connections,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        **settings,
    )
    uvicorn_settings.edge_limits = limits  # type: ignore[attr-defined]  # read by the edge protocols
    # the httptools edge protocol answers at-once requests itself, unless every ASGI message is to be logged
    uvicorn_settings.at_once = settings.get("log_level") != "trace"  # type: ignore[attr-defined]
    return uvicorn_settings


def _at_once_lane(config: uvicorn.Config) -> AtOnceLane | None:
    """The lane of the app ``config`` serves, when its protocols are to answer at-once requests (the app may sit
    under uvicorn's own middleware, e.g. its proxy headers)."""
    if not getattr(config, "at_once", False):
        return None
    app = config.loaded_app
    for _ in range(4):
        lane = getattr(app, "at_once_lane", None)
        if isinstance(lane, AtOnceLane):
            return lane
        app = getattr(app, "app", None)
    return None


_CLOSE = (b"connection", b"close")


def _head(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Header lines as a response's head has them."""
    return b"\r\n".join(map(_HEADER_LINE, headers)) + b"\r\n" if headers else b""


#: one header's line, without its end
_HEADER_LINE = b": ".join
