"""The cancellation property's loop clock: what a loaded machine does to the loop (its thread not running, here a
blocking call standing in for the CPU the load takes) is not counted against a client; a client that waits (a timer
the loop stays free for) is."""

from __future__ import annotations

import asyncio
import time

from contract_tests._properties.cancellation import TICK, loop_clock

BUDGET = 0.3


async def test_a_client_waiting_on_a_timer_uses_up_its_budget() -> None:
    lingering = asyncio.create_task(asyncio.sleep(BUDGET * 10))
    try:
        async with loop_clock() as clock:
            loop_time, wall_time = await clock.wait_until(lingering.done, BUDGET)
        assert not lingering.done()
        assert BUDGET <= loop_time < BUDGET + 5 * TICK
        assert wall_time >= BUDGET
    finally:
        lingering.cancel()


async def test_time_the_loop_could_not_run_is_not_counted() -> None:
    quick = asyncio.create_task(asyncio.sleep(TICK))
    async with loop_clock() as clock:
        # the loop's thread stalls for longer than the whole budget, as on a machine with every core busy
        asyncio.get_running_loop().call_soon(time.sleep, BUDGET * 1.5)
        loop_time, wall_time = await clock.wait_until(quick.done, BUDGET)
    assert quick.done()  # done within the budget of loop time ...
    assert wall_time >= BUDGET * 1.5  # ... though a wall-time bound of BUDGET would have called it late
    assert loop_time < BUDGET
