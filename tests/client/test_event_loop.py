"""The client's tests run on the loop CI asked for (``CLIENT_TEST_LOOP``), and the client works on both loops."""

from __future__ import annotations

import asyncio

import uvloop
from event_loops import chosen_loop

from client import AsyncOpenAI
from mockserver import MockServer


async def test_the_tests_run_on_the_chosen_loop() -> None:
    running = asyncio.get_running_loop()
    assert isinstance(running, uvloop.Loop) == (chosen_loop() == "uvloop")


def test_one_call_under_uvloop_run(server: MockServer) -> None:
    """The issue's reproduction: ``uvloop.run(main())`` where ``main`` makes one call on the default transport."""

    async def main() -> str:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        async with AsyncOpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as client:
            completion = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
        assert "".join(pieces)
        return completion.choices[0].message.content or ""

    assert uvloop.run(main())
