"""The guide's "Concurrent Requests" example (``asyncio.gather``), unchanged but for ``from client import`` and
the ``__main__`` guard."""

from __future__ import annotations

import asyncio

from client import AsyncOpenAI

client = AsyncOpenAI()


async def create_completion(prompt: str):
    response = await client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": prompt}],
    )
    return response.choices[0].message.content


async def main():
    prompts = [
        "Explain quantum computing",
        "What is machine learning?",
        "Describe neural networks",
    ]

    # Run all requests concurrently
    results = await asyncio.gather(*[create_completion(prompt) for prompt in prompts])

    for prompt, result in zip(prompts, results):  # noqa: B905 (as in the guide)
        print(f"Prompt: {prompt}")
        print(f"Response: {result}\n")


if __name__ == "__main__":
    asyncio.run(main())
