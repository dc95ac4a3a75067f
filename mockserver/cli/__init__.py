"""The command line: ``mockserver serve`` (one process, or N workers on one socket)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
