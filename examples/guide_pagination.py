"""The guide's "Pagination with Async" example, unchanged but for ``from client import`` and the ``__main__``
guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


async def main():
    all_jobs = []

    # Automatically fetches more pages as needed
    async for job in client.fine_tuning.jobs.list(limit=20):
        all_jobs.append(job)

    print(f"Total jobs: {len(all_jobs)}")


if __name__ == "__main__":
    asyncio.run(main())
