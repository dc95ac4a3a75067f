"""Probes ``GET <url>/health`` every INTERVAL seconds over one keep-alive connection until stdin closes, then
prints ``{"latencies": [...], "best": [...], "failures": N}`` as JSON. Run as a script, in its own process, so
nothing the test does delays a probe: what it measures is the server.

A probe slower than BOUND seconds is asked again at once, up to twice: ``latencies`` has each sample's first probe,
``best`` its fastest. A server whose event loop is held by a request is slow at every attempt; one that a loaded
machine did not schedule for a moment answers the next attempt at once.

    python _health_probe.py URL INTERVAL BOUND
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

#: a probe that takes longer than this counts as a failure (and the connection is made again)
PROBE_TIMEOUT = 5.0


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=PROBE_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _probe(sock: socket.socket, request: bytes) -> None:
    sock.sendall(request)
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(head[:40].decode("latin-1"))
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk


def main() -> int:
    url, interval, bound = urlsplit(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    request = f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    latencies: list[float] = []
    best: list[float] = []
    failures = 0
    sock: socket.socket | None = None
    while not done.is_set():
        attempts: list[float] = []
        while len(attempts) < 3 and (not attempts or min(attempts) > bound):
            started = time.perf_counter()
            try:
                if sock is None:
                    sock = _connect(host, port)
                _probe(sock, request)
                attempts.append(time.perf_counter() - started)
            except OSError:
                failures += 1
                if sock is not None:
                    sock.close()
                sock = None
                break
        if attempts:
            latencies.append(attempts[0])
            best.append(min(attempts))
        done.wait(interval)
    if sock is not None:
        sock.close()
    print(json.dumps({"latencies": latencies, "best": best, "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
