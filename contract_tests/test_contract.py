"""Every contract property against every chosen client (see ``conftest.py`` for ``--contract-client``)."""

from __future__ import annotations

from collections.abc import Callable

from ._profiles import property_settings
from ._property import Env, Property
from ._targets import Target


def test_contract(
    contract_case: tuple[Target, Property], contract_env_for: Callable[[Target], Env], contract_profile: str
) -> None:
    target, prop = contract_case
    # a known deviation only has to fail once: no shrinking
    shrink = prop.name not in target.deviations
    prop.run(contract_env_for(target), property_settings(contract_profile, prop.examples, shrink=shrink))
