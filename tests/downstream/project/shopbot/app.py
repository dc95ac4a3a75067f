"""A downstream application: its OpenAI client is built when the module is imported (a common pattern)."""

import openai

client = openai.AsyncOpenAI()


async def describe(product: str) -> str:
    completion = await client.chat.completions.create(
        model="gpt-7-preview",  # a model the fake was never configured with
        messages=[{"role": "user", "content": f"Describe {product} in one line."}],
    )
    return completion.choices[0].message.content or ""
