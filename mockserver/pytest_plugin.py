"""The pytest plugin: the fake OpenAI server as fixtures (being built)."""

from __future__ import annotations
