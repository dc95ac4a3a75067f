"""Targets: the clients the contract runs against, each behind one adapter.

A target is a factory called as ``factory(base_url=..., api_key=..., max_retries=..., timeout=...)`` that returns an
``AsyncOpenAI``-compatible client, the client's exception classes, and the properties it is known to break (each
with the reason; the suite then expects that property to fail, strictly). Built-in targets: our ``client`` and the
official ``openai`` SDK, each on its default transport and on aiohttp. ``module:factory`` names any other factory;
its exception classes come from ``factory.exceptions`` (a module or namespace), else from the factory's module, else
from the package of the client it returns.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "BUILTIN_TARGETS",
    "ErrorClasses",
    "Target",
    "TargetError",
    "builtin_target",
    "load_target",
    "resolve_targets",
    "sdk_deviations",
]

API_KEY = "sk-contract"

#: properties the official SDK does not keep (read from its code; see the SDK behaviour reference)
SDK_DEVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        "streaming.truncated_stream_raises": (
            "the official SDK ends iteration quietly when a stream closes cleanly without data: [DONE]"
        ),
    }
)
#: what the httpx-based releases (openai 1.x and 2.x) also get wrong
SDK_BEFORE_3_DEVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        "streaming.cut_stream_raises": (
            "openai < 3 lets the transport's own exception (httpx.RemoteProtocolError, httpx.ReadError) escape from "
            "a stream cut mid-way instead of raising APIConnectionError"
        ),
    }
)


def sdk_deviations(version: str) -> Mapping[str, str]:
    """The official SDK's known deviations, for its release ``version``."""
    major = int(version.split(".", 1)[0])
    if major >= 3:
        return SDK_DEVIATIONS
    return MappingProxyType({**SDK_DEVIATIONS, **SDK_BEFORE_3_DEVIATIONS})


_STATUS_CLASSES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}
_REQUIRED = ("APIError", "APIStatusError", "APIConnectionError", "APITimeoutError", "InternalServerError")


class TargetError(ValueError):
    """A ``--contract-client`` value that names no usable client."""


@dataclass(frozen=True, slots=True)
class ErrorClasses:
    """A client's exception classes, by the official SDK's names."""

    classes: Mapping[str, type[BaseException]]

    @classmethod
    def from_namespace(cls, namespace: Any) -> ErrorClasses:
        names = (*_REQUIRED, *_STATUS_CLASSES.values())
        found = {name: getattr(namespace, name) for name in names if isinstance(getattr(namespace, name, None), type)}
        missing = [name for name in names if name not in found]
        if missing:
            raise TargetError(f"{getattr(namespace, '__name__', namespace)!r} lacks the exception classes {missing}")
        return cls(MappingProxyType(found))

    def __getattr__(self, name: str) -> type[BaseException]:
        try:
            return self.classes[name]
        except KeyError:
            raise AttributeError(name) from None

    def for_status(self, status: int) -> type[BaseException]:
        """The exact class a final error response with ``status`` must raise."""
        if status in _STATUS_CLASSES:
            return self.classes[_STATUS_CLASSES[status]]
        if status >= 500:
            return self.classes["InternalServerError"]
        return self.classes["APIStatusError"]


Factory = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    factory: Factory
    #: resolved lazily for ``module:factory`` targets that only know their classes from the client they return
    errors: ErrorClasses | None
    #: property name -> why this client is known not to keep it
    deviations: Mapping[str, str] = field(default_factory=dict)

    def open(self, *, base_url: str, max_retries: int, timeout: float) -> Any:
        """A new client (call it on the event loop that will use it)."""
        return self.factory(base_url=base_url, api_key=API_KEY, max_retries=max_retries, timeout=timeout)

    def error_classes(self, client: Any) -> ErrorClasses:
        if self.errors is not None:
            return self.errors
        return ErrorClasses.from_namespace(sys.modules[type(client).__module__.split(".")[0]])


def _our_client(aiohttp: bool) -> Factory:
    def factory(**options: Any) -> Any:
        import client

        http_client = client.DefaultAioHttpClient() if aiohttp else None
        return client.AsyncOpenAI(http_client=http_client, **options)

    return factory


def _official_sdk(aiohttp: bool) -> Factory:
    def factory(**options: Any) -> Any:
        import openai

        http_client = openai.DefaultAioHttpClient() if aiohttp else None
        return openai.AsyncOpenAI(http_client=http_client, **options)

    return factory


#: name -> (factory, module of its exception classes, known deviations)
_BUILTINS: Mapping[str, tuple[Factory, str, Mapping[str, str]]] = MappingProxyType(
    {
        "client-httpx": (_our_client(aiohttp=False), "client", {}),
        "client-aiohttp": (_our_client(aiohttp=True), "client", {}),
        "openai-httpx": (_official_sdk(aiohttp=False), "openai", SDK_DEVIATIONS),  # for the installed release
        "openai-aiohttp": (_official_sdk(aiohttp=True), "openai", SDK_DEVIATIONS),
    }
)
BUILTIN_TARGETS = tuple(_BUILTINS)


def builtin_target(name: str) -> Target:
    factory, module_name, deviations = _BUILTINS[name]
    module = importlib.import_module(module_name)
    if module_name == "openai":
        deviations = sdk_deviations(module.__version__)
    return Target(name, factory, ErrorClasses.from_namespace(module), deviations)


def load_target(spec: str) -> Target:
    """A built-in target by name, or ``module:factory`` (a dotted attribute path after the colon)."""
    if spec in _BUILTINS:
        return builtin_target(spec)
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise TargetError(
            f"unknown contract client {spec!r}: use one of {', '.join(BUILTIN_TARGETS)} or module:factory"
        )
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name!r}: {exc}") from None
    module = found
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise TargetError(f"{module_name!r} has no attribute {attribute!r}") from None
    if not callable(found):
        raise TargetError(f"{spec!r} is not callable")
    errors: ErrorClasses | None = None
    namespace = getattr(found, "exceptions", None)
    if namespace is not None:
        errors = ErrorClasses.from_namespace(namespace)
    else:
        try:
            errors = ErrorClasses.from_namespace(module)
        except TargetError:
            errors = None
    deviations = getattr(found, "known_deviations", None) or {}
    return Target(spec, found, errors, dict(deviations))


def resolve_targets(option: str | None) -> list[Target]:
    """``None``/``"all"``: every built-in target; else a comma-separated list of names or ``module:factory``."""
    if option is None or option == "all":
        return [builtin_target(name) for name in BUILTIN_TARGETS]
    return [load_target(part.strip()) for part in option.split(",") if part.strip()]
