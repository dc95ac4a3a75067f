"""The guide's FastAPI integration, unchanged but for ``from client import``. Run it with
``uvicorn examples.fastapi_app:app``. ``@app.on_event`` is deprecated in recent FastAPI (it warns on import);
the guide uses it, so it stays."""

from __future__ import annotations

from fastapi import FastAPI

from client import AsyncOpenAI

app = FastAPI()
client = AsyncOpenAI()


@app.post("/chat")
async def chat(message: str):
    response = await client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": message}],
    )
    return {"response": response.choices[0].message.content}


@app.on_event("shutdown")
async def shutdown():
    await client.close()
