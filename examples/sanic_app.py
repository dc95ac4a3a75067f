"""The guide's Sanic integration, unchanged but for ``from client import``. Run it with
``sanic examples.sanic_app:app``."""

from __future__ import annotations

from sanic import Sanic, response

from client import AsyncOpenAI

app = Sanic("openai-app")
client = AsyncOpenAI()


@app.post("/chat")
async def chat(request):
    message = request.json.get("message")

    completion = await client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": message}],
    )

    return response.json({"response": completion.choices[0].message.content})


@app.listener("before_server_stop")
async def cleanup(app, loop):
    await client.close()
