"""The at-once lane (``mockserver.http.at_once`` with the edge protocol): a plain request is answered inside the
connection's callback, byte for byte and journal entry for journal entry as the app answers it, and everything
the lane does not take (streams, faults, rules, a refused key, a chunked body, a client that leaves) goes through
the app as before.

Each comparison runs two servers with one seed: one where the lane answers, and one where a rule that never
matches is in force (the lane then leaves every request to the app)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import httpx
import orjson
import pytest
from uvicorn.server import ServerState as UvicornServerState

import mockserver.server
from mockserver import MockServer, ServerConfig
from mockserver.app import create_app
from mockserver.cli import workers
from mockserver.http import edge
from mockserver.http.at_once import AtOnceLane, AtOnceResponse
from mockserver.http.dispatch import Endpoint
from mockserver.state.journal import JournalEntry
from mockserver.wire.replies import JSONReply

KEY = "sk-test-lane-0123456789"
#: a rule in force that never fires: the lane leaves every request to the app while it is there
NEVER = {"match": {"path": "/v1/never"}, "action": {"type": "status", "status": 500}}
#: what differs between two answers to one request: the clock
CLOCK_HEADERS = {b"date", b"openai-processing-ms"}


class LaneSpy:
    """Counts the responses a server's lane made (``None`` answers are not counted)."""

    def __init__(self, lane: AtOnceLane, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answered = 0
        answer = lane.answer

        def counting(scope: Any, body: bytes, endpoint: Endpoint) -> AtOnceResponse | None:
            response = answer(scope, body, endpoint)
            self.answered += response is not None
            return response

        monkeypatch.setattr(lane, "answer", counting)


@pytest.fixture
def lane_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MockServer, LaneSpy]]:
    with MockServer(ServerConfig(seed=7)) as server:
        assert server.app.at_once_lane is not None
        yield server, LaneSpy(server.app.at_once_lane, monkeypatch)


@pytest.fixture
def app_server() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=7)) as server:
        server.add_rules(NEVER)
        yield server


def _request(
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    version: str = "1.1",
    authorization: str = f"Bearer {KEY}",
    path: str = "/v1/chat/completions",
) -> bytes:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    lines = [
        f"POST {path} HTTP/{version}",
        "Host: 127.0.0.1",
        f"Authorization: {authorization}",
        "Content-Type: application/json",
        f"Content-Length: {len(raw)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


class Response:
    def __init__(self, status_line: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_line = status_line
        self.headers = headers
        self.body = body

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    def without_clock(self) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
        return self.status_line, [(n, b"" if n in CLOCK_HEADERS else v) for n, v in self.headers], self.body


class Connection:
    """A raw HTTP/1.1 connection to a server, with a bound on every wait."""

    def __init__(self, server: MockServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.buffer = b""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def fill(self, what: str) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection while the test waited for {what}")
        self.buffer += chunk

    def response(self) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            self.fill("a response head")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.split(b"\r\n")
        headers = [(name.lower(), value) for name, _, value in (line.partition(b": ") for line in lines)]
        length = int(next(value for name, value in headers if name == b"content-length"))
        while len(self.buffer) < length:
            self.fill("a response body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Response(status_line, headers, body)

    def closed_by_server(self) -> bool:
        return self.sock.recv(1) == b""


def _exchange(server: MockServer, request: bytes) -> Response:
    with Connection(server) as connection:
        connection.send(request)
        return connection.response()


def _journal_view(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in asdict(entry).items() if key not in ("received_at", "ended_at", "seq")}
        for entry in entries
    ]


BODIES: list[Any] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello number 1"}]},
    {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2"}],
    },
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "three"}], "n": 2, "max_tokens": 5, "store": True},
    {"model": "gpt-4o", "messages": [{"role": "tool", "content": "x"}]},  # refused: a tool message without a call
    {"model": "gpt-4o", "messages": []},  # refused: no messages
    b"{not json",
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 9},  # out of range
]


def test_the_lane_answers_byte_for_byte_and_journals_as_the_app(
    lane_server: tuple[MockServer, LaneSpy], app_server: MockServer
) -> None:
    server, spy = lane_server
    for body in BODIES:
        fast, full = _exchange(server, _request(body)), _exchange(app_server, _request(body))
        assert fast.without_clock() == full.without_clock(), body
        assert fast.header(b"x-request-id") is not None
    assert spy.answered == len(BODIES)
    assert {response.status for response in (_exchange(server, _request(b)) for b in BODIES[:3])} == {200}
    assert _journal_view(server.journal[: len(BODIES)]) == _journal_view(app_server.journal)
    assert server.stats()["requests"] == app_server.stats()["requests"] + 3
    assert server.stats()["in_flight"] == 0


EMBEDDINGS: list[Any] = [
    {"model": "text-embedding-3-small", "input": "one"},
    {"model": "text-embedding-3-large", "input": ["two", "three"], "dimensions": 8, "encoding_format": "base64"},
    {"model": "text-embedding-3-small", "input": []},  # refused
]


def test_embeddings_are_answered_by_the_lane_as_by_the_app(
    lane_server: tuple[MockServer, LaneSpy], app_server: MockServer
) -> None:
    server, spy = lane_server
    for body in EMBEDDINGS:
        request = _request(body, path="/v1/embeddings")
        fast, full = _exchange(server, request), _exchange(app_server, request)
        assert fast.without_clock() == full.without_clock(), body
    assert [entry.status for entry in server.journal] == [200, 200, 400]
    assert _journal_view(server.journal) == _journal_view(app_server.journal)
    assert spy.answered == len(EMBEDDINGS)


def test_a_kept_connection_serves_requests_one_after_another_and_closes_when_asked(
    lane_server: tuple[MockServer, LaneSpy],
) -> None:
    server, spy = lane_server
    with Connection(server) as connection:
        for number in range(3):
            connection.send(_request({"model": "gpt-4o", "messages": [{"role": "user", "content": f"n{number}"}]}))
            response = connection.response()
            assert response.status == 200
            assert response.header(b"connection") is None
        connection.send(_request(BODIES[0], headers={"Connection": "close"}))
        last = connection.response()
        assert (last.status, last.header(b"connection")) == (200, b"close")
        assert connection.closed_by_server()
    assert spy.answered == 4


def test_an_idle_connection_is_closed_after_uvicorns_keep_alive_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane ends a request as uvicorn's cycle does: the connection's keep-alive clock starts again."""
    serving = mockserver.server.uvicorn_config
    monkeypatch.setattr(
        mockserver.server,
        "uvicorn_config",
        lambda app, config, **settings: serving(app, config, **{**settings, "timeout_keep_alive": 0.2}),
    )
    with MockServer() as server, Connection(server) as connection:
        spy = LaneSpy(server.app.at_once_lane, monkeypatch)  # type: ignore[arg-type]
        connection.send(_request(BODIES[0]))
        assert connection.response().status == 200
        assert connection.closed_by_server()  # after 0.2 s idle; the bound of the wait is 10 s
    assert spy.answered == 1


def test_a_request_slower_than_the_keep_alive_timeout_is_answered_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keep-alive clock runs only while the connection is idle: a request that arrives stops it, however long
    its answer then takes."""
    serving = mockserver.server.uvicorn_config
    monkeypatch.setattr(
        mockserver.server,
        "uvicorn_config",
        lambda app, config, **settings: serving(app, config, **{**settings, "timeout_keep_alive": 0.5}),
    )
    slow = {"X-Mock-Fault": orjson.dumps({"type": "latency", "ttft": 0.8}).decode()}
    with MockServer() as server, Connection(server) as connection:
        connection.send(_request(BODIES[0]))  # answered at once: the connection's idle clock starts
        assert connection.response().status == 200
        connection.send(_request(BODIES[0], headers=slow))  # at once, well within the 0.5 s
        assert connection.response().status == 200  # 0.8 s later, on the same connection
        assert connection.closed_by_server()  # and idle again after it: closed after 0.5 s


def test_each_response_carries_uvicorns_default_headers_as_they_are_now(
    lane_server: tuple[MockServer, LaneSpy],
) -> None:
    server, spy = lane_server
    uvicorn_server = server._server
    assert uvicorn_server is not None
    with Connection(server) as connection:
        connection.send(_request(BODIES[0]))
        assert connection.response().header(b"server") == b"uvicorn"
        # what uvicorn's server does once a second (the date moves on), here at once
        uvicorn_server.server_state.default_headers = [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")]
        connection.send(_request(BODIES[0]))
        response = connection.response()
    assert (response.header(b"date"), response.header(b"server")) == (b"Thu, 01 Jan 2026 00:00:00 GMT", None)
    assert spy.answered == 2


def test_an_http_1_0_request_is_answered_and_its_connection_closed(lane_server: tuple[MockServer, LaneSpy]) -> None:
    server, spy = lane_server
    with Connection(server) as connection:
        connection.send(_request(BODIES[0], version="1.0"))
        response = connection.response()
        assert (response.status, response.header(b"connection")) == (200, b"close")
        assert connection.closed_by_server()
    assert spy.answered == 1


def test_pipelined_requests_are_answered_in_order(lane_server: tuple[MockServer, LaneSpy]) -> None:
    server, spy = lane_server
    with Connection(server) as connection:
        connection.send(_request(BODIES[0]) + _request(BODIES[1]) + _request(BODIES[3]))
        answers = [connection.response() for _ in range(3)]
    assert [response.status for response in answers] == [200, 200, 400]
    assert len({response.header(b"x-request-id") for response in answers}) == 3
    assert [entry.status for entry in server.journal] == [200, 200, 400]
    assert spy.answered >= 1  # the first; the others wait in uvicorn's queue and go through the app


def test_requests_pipelined_behind_one_the_app_answers_are_started_when_it_ends(
    lane_server: tuple[MockServer, LaneSpy],
) -> None:
    """The edge protocol's end of a response starts the next request waiting in uvicorn's queue."""
    server, _ = lane_server
    slow = {"X-Mock-Fault": orjson.dumps({"type": "latency", "ttft": 0.05}).decode()}
    with Connection(server) as connection:
        connection.send(_request(BODIES[0], headers=slow) + _request(BODIES[1]) + _request(BODIES[0]))
        answers = [connection.response() for _ in range(3)]
    assert [response.status for response in answers] == [200, 200, 200]
    assert [entry.rule_id for entry in server.journal] == ["header", None, None]


@pytest.mark.parametrize(("first_part", "answered"), [(0, 1), (5, 0)])
def test_a_body_that_comes_after_its_head_is_waited_for(
    lane_server: tuple[MockServer, LaneSpy], first_part: int, answered: int
) -> None:
    """A head alone is held for the lane; a body that comes in parts is read by the app as it comes."""
    server, spy = lane_server
    request = _request(BODIES[0])
    head, body = request.split(b"\r\n\r\n", 1)
    with Connection(server) as connection:
        connection.send(head + b"\r\n\r\n" + body[:first_part])
        connection.sock.settimeout(0.05)
        with pytest.raises(TimeoutError):
            connection.sock.recv(1)  # nothing is answered before the body is in
        connection.sock.settimeout(10)
        connection.send(body[first_part:])
        assert connection.response().status == 200
    assert spy.answered == answered


@pytest.mark.parametrize(
    ("body", "headers", "authorization", "status"),
    [
        ({**BODIES[0], "stream": True}, {}, f"Bearer {KEY}", 200),  # a stream
        (BODIES[0], {"X-Mock-Fault": "503"}, f"Bearer {KEY}", 503),  # a fault asked for
        (BODIES[0], {"Authorization": f"Bearer {KEY}"}, "Basic abc", 401),  # refused (the first one counts)
        (BODIES[0], {"Expect": "100-continue"}, f"Bearer {KEY}", 200),  # the client waits for a go-ahead
    ],
    ids=["stream", "fault-header", "refused-key", "expect-continue"],
)
def test_what_the_lane_does_not_take_goes_through_the_app(
    lane_server: tuple[MockServer, LaneSpy], body: Any, headers: dict[str, str], authorization: str, status: int
) -> None:
    server, spy = lane_server
    with Connection(server) as connection:
        connection.send(_request(body, headers=headers, authorization=authorization))
        if "Expect" in headers:
            while b"100 Continue" not in connection.buffer:
                connection.fill("the go-ahead")
            connection.buffer = connection.buffer.split(b"\r\n\r\n", 1)[1]
        if body.get("stream"):
            while b"data: [DONE]" not in connection.buffer:
                connection.fill("the end of the stream")
            assert connection.buffer.startswith(b"HTTP/1.1 200 OK")
        else:
            assert connection.response().status == status
    _wait_for_journal(server)
    assert spy.answered == 0
    assert [entry.status for entry in server.journal] == [status]


def test_a_chunked_body_goes_through_the_app(lane_server: tuple[MockServer, LaneSpy]) -> None:
    server, spy = lane_server
    raw = orjson.dumps(BODIES[0])
    request = _request(raw).replace(f"Content-Length: {len(raw)}".encode(), b"Transfer-Encoding: chunked")
    request = request.replace(raw, b"%x\r\n%s\r\n0\r\n\r\n" % (len(raw), raw))
    assert _exchange(server, request).status == 200
    assert spy.answered == 0


def test_a_rule_added_while_the_body_comes_in_applies(lane_server: tuple[MockServer, LaneSpy]) -> None:
    server, spy = lane_server
    head, body = _request(BODIES[0]).split(b"\r\n\r\n", 1)
    with Connection(server) as connection:
        connection.send(head + b"\r\n\r\n")  # held for the lane: no rule was in force
        connection.sock.settimeout(0.05)
        with pytest.raises(TimeoutError):
            connection.sock.recv(1)
        connection.sock.settimeout(10)
        server.add_rules({"match": {"path": "/v1/chat/completions"}, "action": {"type": "status", "status": 418}})
        connection.send(body)
        assert connection.response().status == 418
    assert spy.answered == 0


@pytest.mark.parametrize("sent", ["head", "part of the body"])
def test_a_client_that_leaves_before_its_body_is_in_is_journaled_as_by_the_app(
    lane_server: tuple[MockServer, LaneSpy], app_server: MockServer, sent: str
) -> None:
    server, spy = lane_server
    request = _request(BODIES[0])
    cut = request.index(b"\r\n\r\n") + 4 if sent == "head" else len(request) - 3
    for target in (server, app_server):
        with Connection(target) as connection:
            connection.send(request[:cut])
        _wait_for_journal(target)
    assert _journal_view(server.journal) == _journal_view(app_server.journal)
    assert spy.answered == 0


def _wait_for_journal(server: MockServer) -> None:
    deadline = time.monotonic() + 10
    while not server.journal or server.journal[-1].outcome == "in_progress":
        if time.monotonic() > deadline:
            raise AssertionError("waited 10 s for the journal to show the request that was cut")
        time.sleep(0.005)


def test_a_reply_that_cannot_be_sent_is_a_500_as_from_the_app(
    lane_server: tuple[MockServer, LaneSpy], app_server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    server, spy = lane_server
    broken = JSONReply({"unencodable": object()})
    for target in (server, app_server):
        endpoint = target.app.hot_routes.endpoint({"method": "POST", "path": "/v1/chat/completions"})
        assert endpoint is not None

        async def handler(call: Any) -> JSONReply:
            return broken

        endpoint.handler = handler
        endpoint.at_once = lambda call: broken
    caplog.set_level(logging.ERROR)
    fast, full = _exchange(server, _request(BODIES[0])), _exchange(app_server, _request(BODIES[0]))
    assert fast.status == full.status == 500
    assert fast.body == full.body
    assert orjson.loads(fast.body)["error"]["type"] == "server_error"
    assert spy.answered == 1
    assert _journal_view(server.journal) == _journal_view(app_server.journal)
    assert server.journal[0].outcome == "server_cut"
    assert "answering at once failed" in caplog.text


def test_a_header_that_would_break_the_head_is_refused(lane_server: tuple[MockServer, LaneSpy]) -> None:
    server, _ = lane_server
    endpoint = server.app.hot_routes.endpoint({"method": "POST", "path": "/v1/chat/completions"})
    assert endpoint is not None
    endpoint.at_once = lambda call: JSONReply({}, headers={"x-injected": "a\r\nset-cookie: b"})
    response = _exchange(server, _request(BODIES[0]))
    assert response.status == 500
    assert response.header(b"set-cookie") is None
    assert server.journal[0].outcome == "server_cut"


def test_a_request_the_lane_gives_back_keeps_the_id_it_drew(
    lane_server: tuple[MockServer, LaneSpy], app_server: MockServer
) -> None:
    """A stream is declined once its body is in, after the lane drew its request id: the app answers it with that
    id, so a seeded server's ids come out as without the lane."""
    server, spy = lane_server
    stream = {**BODIES[0], "stream": True}
    ids = []
    for target in (server, app_server):
        with httpx.Client(base_url=target.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
            streamed = client.post("/v1/chat/completions", json=stream)
            plain = client.post("/v1/chat/completions", json=BODIES[0])
        assert (streamed.status_code, plain.status_code) == (200, 200)
        ids.append((streamed.headers["x-request-id"], plain.headers["x-request-id"], plain.json()["id"]))
    assert ids[0] == ids[1]
    assert spy.answered == 1  # the plain one


@pytest.fixture
def uvicorn_log_levels() -> Iterator[None]:
    """uvicorn's config sets its loggers' levels: put them back for the tests that follow."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.mark.parametrize(("log_level", "lane"), [("warning", True), ("info", False), ("trace", False)])
@pytest.mark.usefixtures("uvicorn_log_levels")
async def test_the_lane_is_off_when_uvicorn_logs_each_request(log_level: str, lane: bool) -> None:
    app = create_app()
    config = edge.uvicorn_config(app, ServerConfig(), log_level=log_level, lifespan="off")
    protocol = edge.edge_protocol()(config=config, server_state=UvicornServerState(), app_state={})  # type: ignore[call-arg]
    assert (protocol._lane is app.at_once_lane) is lane


@pytest.mark.usefixtures("uvicorn_log_levels")
async def test_each_worker_of_a_multi_worker_server_answers_through_its_apps_lane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``serve --workers N`` gives uvicorn a factory: the lane is found under uvicorn's own middleware."""
    monkeypatch.setenv(workers.CONFIG_ENV, ServerConfig().model_dump_json())
    config = edge.uvicorn_config(
        f"{workers.__name__}:worker_app", ServerConfig(), factory=True, log_level="warning", lifespan="off"
    )
    protocol = edge.edge_protocol()(config=config, server_state=UvicornServerState(), app_state={})  # type: ignore[call-arg]
    assert isinstance(protocol._lane, AtOnceLane)
    assert config.loaded_app is not protocol._lane._app  # it was under uvicorn's proxy-headers middleware
