"""The public API prints as the module users import it from, not as the private module that defines it."""

from __future__ import annotations

import inspect

import pytest

import client
import mockserver
import mockserver.faults
import mockserver.inprocess
import mockserver.pytest_plugin

NAMED = [
    *((mockserver, name) for name in mockserver.__all__),
    *((mockserver.faults, name) for name in mockserver.faults.__all__),
    *((mockserver.inprocess, name) for name in mockserver.inprocess.__all__),
    (mockserver.pytest_plugin, "MockOpenAI"),
    (mockserver.pytest_plugin, "InProcessMockOpenAI"),
    *((client, name) for name in client.__all__),
]
#: classes and functions (a constant such as ``NOT_GIVEN`` or ``OK`` has no module of its own)
PUBLIC = [
    (module, name)
    for module, name in NAMED
    if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{module.__name__}.{name}" for module, name in PUBLIC])
def test_public_classes_and_functions_carry_their_public_module(module: object, name: str) -> None:
    assert getattr(module, name).__module__ == module.__name__  # type: ignore[attr-defined]


def test_reprs_name_the_public_module() -> None:
    assert repr(mockserver.MockServer) == "<class 'mockserver.MockServer'>"
    assert repr(client.AsyncOpenAI) == "<class 'client.AsyncOpenAI'>"
    assert repr(mockserver.pytest_plugin.MockOpenAI) == "<class 'mockserver.pytest_plugin.MockOpenAI'>"
