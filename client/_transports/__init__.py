"""Transports: the HTTP libraries the client can send its requests through.

``HttpxTransport`` wraps an ``httpx.AsyncClient``; ``DefaultAioHttpClient`` speaks aiohttp natively (it needs the
optional ``aiohttp`` extra and raises ``RuntimeError`` on construction without it).
"""

from __future__ import annotations

from .aiohttp import DefaultAioHttpClient
from .httpx import HttpxTransport

__all__ = ["DefaultAioHttpClient", "HttpxTransport"]
