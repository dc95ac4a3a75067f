"""The guide's "Error Handling" example, unchanged but for the imports (our package stands in for ``openai``)
and the ``__main__`` guard."""

from __future__ import annotations

import asyncio

import client as openai
from client import AsyncOpenAI

client = AsyncOpenAI()


async def safe_completion(prompt: str):
    try:
        response = await client.chat.completions.create(
            model="gpt-4",
            messages=[{"role": "user", "content": prompt}],
        )
        return response.choices[0].message.content
    except openai.APIConnectionError as e:
        print(f"Connection error: {e}")
        return None
    except openai.RateLimitError as e:
        print(f"Rate limit exceeded: {e}")
        return None
    except openai.APIStatusError as e:
        print(f"API error {e.status_code}: {e.message}")
        return None


async def main():
    result = await safe_completion("Hello!")
    if result:
        print(result)


if __name__ == "__main__":
    asyncio.run(main())
