"""Transports: the HTTP libraries the client can send its requests through."""

from __future__ import annotations

from .httpx import HttpxTransport

__all__ = ["HttpxTransport"]
