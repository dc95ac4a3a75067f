"""Request fields that chat and legacy completions share: model, stop, stream options, metadata, the reply key,
and the identity fields (``system_fingerprint``, usage) their replies carry; the service tiers and reasoning efforts
chat and responses accept."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

from ..state.server_state import ServerState
from ..wire.errors import invalid_type, invalid_value
from ..wire.fields import optional_bool, optional_object, required_str
from .models import check_model_served

__all__ = [
    "CONTENT_NEUTRAL_FIELDS",
    "REASONING_EFFORTS",
    "SERVICE_TIERS",
    "known_model",
    "metadata_field",
    "reply_key",
    "stop_field",
    "stream_fields",
    "system_fingerprint",
    "usage_body",
]

#: request fields that change how a reply is delivered or kept, never what it says
CONTENT_NEUTRAL_FIELDS = frozenset({"stream", "stream_options", "store", "metadata", "user", "service_tier"})
#: the values of ``service_tier`` (chat and responses)
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority")
#: the values of chat's ``reasoning_effort`` and of responses' ``reasoning.effort``
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def known_model(body: Mapping[str, Any], state: ServerState) -> str:
    """The request's model, when it is served (see :func:`.models.check_model_served`)."""
    model = required_str(body, "model")
    check_model_served(state.config, model, quote="`")
    return model


def stop_field(body: Mapping[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        raise invalid_type("stop", "a string or an array of strings", stop)
    if len(stop) > 4:
        raise invalid_value(
            "stop",
            "Invalid 'stop': array too long. Expected an array with maximum length 4, "
            f"but got an array with length {len(stop)} instead.",
        )
    return tuple(stop)


def stream_fields(body: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(stream, include_usage)``."""
    stream = optional_bool(body, "stream")
    options = optional_object(body, "stream_options")
    if options is None:
        return stream, False
    if not stream:
        raise invalid_value(
            "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        )
    return stream, optional_bool(options, "include_usage")


def metadata_field(body: Mapping[str, Any]) -> dict[str, str]:
    metadata = optional_object(body, "metadata")
    if metadata is None:
        return {}
    if len(metadata) > 16:
        raise invalid_value(
            "metadata", "Invalid 'metadata': too many properties. Expected an object with at most 16 properties."
        )
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise invalid_type(f"metadata.{key}", "a string", value)
        if len(key) > 64 or len(value) > 512:
            raise invalid_value(f"metadata.{key}", f"Invalid 'metadata.{key}': string too long.")
    return dict(metadata)


def reply_key(body: Mapping[str, Any], *, also_ignore: frozenset[str] = frozenset()) -> bytes:
    """Canonical bytes of what decides a reply's content: the body without delivery-only fields."""
    ignored = CONTENT_NEUTRAL_FIELDS | also_ignore if also_ignore else CONTENT_NEUTRAL_FIELDS
    # a body without such fields (most are) is its own content
    content = (
        body
        if type(body) is dict and ignored.isdisjoint(body)
        else {name: value for name, value in body.items() if name not in ignored}
    )
    try:
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # what orjson does not encode (an integer past 64 bits), parsed elsewhere
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )


def system_fingerprint(state: ServerState, model: str) -> str:
    """``fp_`` + 10 hex, fixed for a (seed, model) pair, as a model deployment's is."""
    return _fingerprint(state.config.seed, model)


# a pure function's results kept (it runs for every reply); bounded, and nothing it holds changes any answer
@functools.lru_cache(maxsize=1024)
def _fingerprint(seed: int, model: str) -> str:
    return "fp_" + hashlib.sha256(f"{seed}:{model}".encode()).hexdigest()[:10]


def usage_body(prompt_tokens: int, completion_tokens: int, *, details: bool = True) -> dict[str, Any]:
    if not details:
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
