"""Legacy completions objects (``POST /v1/completions``)."""

from __future__ import annotations

from typing import Any

from ._base import APIObject
from .chat import CompletionUsage

__all__ = ["Completion", "CompletionChoice"]


class CompletionChoice(APIObject):
    text: str = ""
    index: int = 0
    logprobs: Any = None
    finish_reason: str | None = None


class Completion(APIObject):
    id: str = ""
    object: str = "text_completion"
    created: int = 0
    model: str = ""
    choices: list[CompletionChoice] = []
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
