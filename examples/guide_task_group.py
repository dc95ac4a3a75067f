"""The guide's "Task Groups (Python 3.11+)" example, unchanged but for ``from client import`` and the
``__main__`` guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


async def main():
    async with asyncio.TaskGroup() as tg:
        task1 = tg.create_task(
            client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": "Hello"}],
            )
        )
        task2 = tg.create_task(
            client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": "Hi"}],
            )
        )

    print(task1.result().choices[0].message.content)
    print(task2.result().choices[0].message.content)


if __name__ == "__main__":
    asyncio.run(main())
