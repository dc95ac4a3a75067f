"""The contract's properties, by family; :data:`PROPERTIES` lists them in report order."""

from __future__ import annotations

from .._property import Property
from .cancellation import CANCELLATION
from .pagination import PAGINATION
from .retries import RETRIES
from .stateful import STATEFUL
from .streaming import STREAMING
from .timeouts import TIMEOUTS

__all__ = ["PROPERTIES", "property_named"]

PROPERTIES: tuple[Property, ...] = (*RETRIES, *STREAMING, *CANCELLATION, *PAGINATION, *TIMEOUTS, *STATEFUL)


def property_named(name: str) -> Property:
    for prop in PROPERTIES:
        if prop.name == name:
            return prop
    raise KeyError(name)
