"""The contract catches deliberately broken clients: each fails, and the failure names the violated property and
carries a scenario file that replays it."""

from __future__ import annotations

import pytest
import yaml
from anyio.from_thread import BlockingPortal
from broken_clients import BROKEN_CLIENTS

from contract_tests._profiles import property_settings
from contract_tests._properties import property_named
from contract_tests._property import ContractViolation, Env, MachineProperty
from contract_tests._targets import load_target
from mockserver import MockServer, parse_scenario


@pytest.mark.parametrize(("factory", "violated"), sorted(BROKEN_CLIENTS.items()))
def test_broken_client_fails_the_property_it_breaks(
    factory: str, violated: str, contract_server: MockServer, portal: BlockingPortal
) -> None:
    target = load_target(f"broken_clients:{factory}")
    env = Env(target, contract_server, portal)
    prop = property_named(violated)
    try:
        with pytest.raises(ContractViolation) as failure:
            prop.run(env, property_settings("ci", prop.examples, shrink=False))
    finally:
        portal.call(env.aclose)
    assert failure.value.property == violated
    assert repr(violated) in str(failure.value)
    notes = "\n".join(failure.value.__notes__)
    if isinstance(prop, MachineProperty):  # no faults to replay: the failing steps are noted instead
        assert failure.value.scenario is None
        assert "state = FilesAndJobsMachine(" in notes
        return
    assert failure.value.scenario is not None
    assert failure.value.scenario in notes
    # the scenario file is one `mockserver serve --scenario` accepts
    parse_scenario(yaml.safe_load(failure.value.scenario), source=factory)
