"""The guide's "Using aiohttp Transport" example, unchanged but for ``from client import`` and the ``__main__``
guard. Needs the ``aiohttp`` extra: ``pip install 'openai-async-harness[aiohttp]'``."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI, DefaultAioHttpClient


async def main():
    async with AsyncOpenAI(
        http_client=DefaultAioHttpClient(),
    ) as client:
        response = await client.chat.completions.create(
            model="gpt-4",
            messages=[{"role": "user", "content": "Hello!"}],
        )
        print(response.choices[0].message.content)


if __name__ == "__main__":
    asyncio.run(main())
