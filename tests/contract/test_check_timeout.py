"""A check that does not finish within its property's ``example_timeout`` fails the property, and the portal
cancels it rather than leaving it running on the loop the other checks share."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import strategies as st

from contract_tests._profiles import property_settings
from contract_tests._property import ContractViolation, Env, GivenProperty
from contract_tests._targets import load_target
from mockserver import MockServer


def test_a_check_past_its_timeout_fails_the_property_and_is_cancelled(contract_server: MockServer) -> None:
    cancelled = threading.Event()

    async def never_finishes(env: Env, example: Any) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    prop = GivenProperty(
        name="demo.never_finishes",
        summary="a check that hangs",
        strategy=st.just(None),
        check=never_finishes,
        replay=lambda example: "rules: []\n",
        examples=1,
        example_timeout=0.2,
    )
    # a portal of its own: should the check be left running, a failed assertion here ends the portal by
    # cancelling what remains instead of waiting for it forever
    with start_blocking_portal() as portal:
        env = Env(load_target("client-httpx"), contract_server, portal)
        with pytest.raises(ContractViolation) as failure:
            prop.run(env, property_settings("ci", prop.examples, shrink=False))
        assert failure.value.property == "demo.never_finishes"
        expected = "TimeoutError: the contract check 'demo.never_finishes' did not finish within 0.2 s"
        assert expected in failure.value.detail
        assert cancelled.wait(5), "the timed-out check was not cancelled within 5 s"
        assert portal.call(anyio.sleep, 0) is None  # the loop still runs checks
