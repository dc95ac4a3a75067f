"""``X-Mock-Fault``: a fault asked for by the request itself, for quick manual checks (curl, a browser).

The value is an action in a short form, or its JSON shape::

    X-Mock-Fault: 429
    X-Mock-Fault: 503 retry_after_ms=20 should_retry=false
    X-Mock-Fault: hang
    X-Mock-Fault: disconnect after_events=3
    X-Mock-Fault: quota                      (= rate_limit kind=quota)
    X-Mock-Fault: {"type": "latency", "ttft": 0.2}

The first word is an HTTP status (a ``status`` action) or an action type; ``key=value`` pairs follow.
"""

from __future__ import annotations

from typing import Any

from ..wire.json_codec import JSONDecodeError, loads
from .rules import Action, RuleError, parse_action

__all__ = ["FAULT_HEADER", "parse_fault_header"]

FAULT_HEADER = "x-mock-fault"

_ALIASES: dict[str, dict[str, Any]] = {
    "quota": {"type": "rate_limit", "kind": "quota"},
    "ok": {"type": "pass"},
}


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_fault_header(value: str) -> Action:
    """The action an ``X-Mock-Fault`` value asks for; :class:`RuleError` names what is wrong."""
    text = value.strip()
    if not text:
        raise RuleError(f"{FAULT_HEADER}: empty value")
    if text.startswith("{"):
        try:
            data = loads(text)
        except JSONDecodeError:
            raise RuleError(f"{FAULT_HEADER}: not valid JSON: {text!r}") from None
        return parse_action(data, where=FAULT_HEADER)
    head, *pairs = text.split()
    fields: dict[str, Any]
    if head.isdigit():
        fields = {"type": "status", "status": int(head)}
    else:
        fields = dict(_ALIASES.get(head.lower(), {"type": head.lower()}))
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if not equals or not key:
            raise RuleError(f"{FAULT_HEADER}: expected key=value, got {pair!r}")
        fields[key] = _scalar(raw)
    return parse_action(fields, where=FAULT_HEADER)
