"""The guide's "Rate Limiting with Async" example (a semaphore), unchanged but for ``from client import`` and the
``__main__`` guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


class RateLimiter:
    def __init__(self, max_concurrent: int):
        self.semaphore = asyncio.Semaphore(max_concurrent)

    async def execute(self, coro):
        async with self.semaphore:
            return await coro


async def main():
    limiter = RateLimiter(max_concurrent=5)

    prompts = [f"Question {i}" for i in range(20)]

    async def create_completion(prompt):
        return await limiter.execute(
            client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": prompt}],
            )
        )

    results = await asyncio.gather(*[create_completion(p) for p in prompts])

    print(f"Completed {len(results)} requests")


if __name__ == "__main__":
    asyncio.run(main())
