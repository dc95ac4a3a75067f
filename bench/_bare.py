"""The limit of this stack: a bare Starlette app under uvicorn with the settings ``mockserver serve`` uses, that
answers ``POST /v1/chat/completions`` with fixed, pre-encoded bytes - doing nothing a fake could skip.

``python -m bench._bare --port N --body FILE`` reads the request body and returns FILE as one JSON body;
``--stream FILE`` streams FILE's SSE events (split at their blank lines) one ASGI message each, as the fake does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver.server import bind_socket

__all__ = ["bare_app", "main", "split_events"]

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"


def split_events(raw: bytes) -> list[bytes]:
    """The events of an SSE body, each with its closing blank line."""
    return [part + b"\n\n" for part in raw.split(b"\n\n") if part]


def bare_app(*, body: bytes | None = None, events: Sequence[bytes] = ()) -> Starlette:
    async def fixed_body(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    async def fixed_stream(request: Request) -> Response:
        await request.body()

        async def chunks() -> AsyncIterator[bytes]:
            for event in events:
                yield event

        return StreamingResponse(chunks(), media_type=SSE_MEDIA_TYPE, headers={"cache-control": "no-cache"})

    endpoint = fixed_body if body is not None else fixed_stream
    return Starlette(routes=[Route("/v1/chat/completions", endpoint, methods=["POST"])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._bare", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--body", type=Path, help="a file whose bytes are every reply")
    given.add_argument("--stream", type=Path, help="a file of SSE events streamed as every reply")
    args = parser.parse_args(argv)
    if args.body is not None:
        app = bare_app(body=args.body.read_bytes())
    else:
        app = bare_app(events=split_events(args.stream.read_bytes()))
    sock = bind_socket("127.0.0.1", args.port)
    # the uvicorn settings of ``mockserver serve``
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
