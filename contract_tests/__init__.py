"""A hypothesis contract suite for OpenAI-style async clients, written once and run against any client.

Run it with pytest (``pytest contract_tests --contract-client NAME``; built-in names ``client-httpx``,
``client-aiohttp``, ``openai-httpx``, ``openai-aiohttp``; ``module:factory`` for a client you bring; ``all`` by
default), or print the conformance table with ``python -m contract_tests --report``.

A target is a factory ``factory(base_url=..., api_key=..., max_retries=..., timeout=...)`` returning an
``AsyncOpenAI``-compatible client. Each property (:data:`PROPERTIES`: retries, streaming, cancellation,
pagination, timeouts, a stateful machine over files and fine-tuning jobs) draws examples with hypothesis, drives the
client on one event loop in a thread (the portal) against a live mock server, and checks what the client did
against what the server saw (its journal and counters). A failure raises :class:`ContractViolation` naming the
property, with the scenario file that replays the failing example (``mockserver serve --scenario FILE``).

Deliberate choices: server-directed delays are a few milliseconds (the SDK honours ``retry-after-ms``), so only the
backoff and timeout properties wait real backoff, with few examples. A target's known deviations (the official SDK
does not notice a stream that ends cleanly without ``[DONE]``) are strict expected failures, never weakened
properties. Cancellation is checked for a bare ``async for`` (cancelled while reading) and for a stream held in
``async with`` (cancelled while the caller awaits something else).
"""

from __future__ import annotations

#: what brings the suite's own requirements (the suite ships in the wheel; hypothesis and pytest do not)
_CONTRACT_EXTRA = "pip install 'openai-async-harness[contract]'"

try:
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
except ModuleNotFoundError as _missing:
    raise ModuleNotFoundError(
        f"contract_tests needs {_missing.name}, which is not installed: {_CONTRACT_EXTRA}", name=_missing.name
    ) from None

from ._properties import PROPERTIES, property_named  # noqa: E402
from ._property import ContractViolation, Env, GivenProperty, MachineProperty, Property  # noqa: E402
from ._report import format_report, report_failed  # noqa: E402
from ._runner import PropertyResult, contract_env, run_property, run_suite  # noqa: E402
from ._targets import BUILTIN_TARGETS, ErrorClasses, Target, TargetError, load_target, resolve_targets  # noqa: E402

__all__ = [
    "BUILTIN_TARGETS",
    "PROPERTIES",
    "ContractViolation",
    "Env",
    "ErrorClasses",
    "GivenProperty",
    "MachineProperty",
    "Property",
    "PropertyResult",
    "Target",
    "TargetError",
    "contract_env",
    "format_report",
    "load_target",
    "property_named",
    "report_failed",
    "resolve_targets",
    "run_property",
    "run_suite",
]
