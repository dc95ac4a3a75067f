"""The guide's "Streaming with Async" example, unchanged but for ``from client import`` and the ``__main__``
guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


async def main():
    stream = await client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Write a story"}],
        stream=True,
    )

    async for chunk in stream:
        if chunk.choices[0].delta.content is not None:
            print(chunk.choices[0].delta.content, end="")


if __name__ == "__main__":
    asyncio.run(main())
