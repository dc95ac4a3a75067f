"""The package's public names, locked; every property has a unique dotted name in a known family."""

from __future__ import annotations

import types

import contract_tests


def test_exported_names() -> None:
    assert set(contract_tests.__all__) == {
        name
        for name, value in vars(contract_tests).items()
        if name.isidentifier()
        and not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
    }


def test_property_names() -> None:
    names = [prop.name for prop in contract_tests.PROPERTIES]
    assert len(names) == len(set(names))
    families = {name.split(".")[0] for name in names}
    assert families == {"retries", "streaming", "cancellation", "pagination", "timeouts", "stateful"}
    assert contract_tests.property_named("retries.policy").name == "retries.policy"
