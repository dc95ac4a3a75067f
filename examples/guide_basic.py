"""The guide's "Basic Usage" example, unchanged but for ``from client import`` and the ``__main__`` guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


async def main():
    response = await client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Hello!"}],
    )
    print(response.choices[0].message.content)


if __name__ == "__main__":
    asyncio.run(main())
