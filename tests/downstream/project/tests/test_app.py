import openai
from shopbot import app


async def test_describe_reaches_the_fake(mock_openai):
    text = await app.describe("a teapot")
    assert text
    assert mock_openai.last_body("/chat/completions")["model"] == "gpt-7-preview"


async def test_import_time_client_uses_the_fakes_key(mock_openai):
    await app.describe("a kettle")
    # the journal keeps a key's scheme and last four characters, never the whole key
    assert mock_openai.last_headers("/chat/completions")["authorization"] == f"Bearer ***{mock_openai.api_key[-4:]}"


async def test_explicit_real_base_url_fails_fast():
    async with openai.AsyncOpenAI(base_url="https://api.openai.com/v1") as client:
        await client.models.list()


async def test_explicit_real_base_url_fails_fast_on_aiohttp():
    async with openai.AsyncOpenAI(
        base_url="https://api.openai.com/v1", http_client=openai.DefaultAioHttpClient()
    ) as client:
        await client.models.list()


async def test_azure_client_from_the_environment(mock_openai):
    async with openai.AsyncAzureOpenAI() as client:
        completion = await client.chat.completions.create(
            model="my-deployment", messages=[{"role": "user", "content": "hi"}]
        )
    assert completion.choices[0].message.content
    assert mock_openai.last_headers("/chat/completions")["api-key"] == f"***{mock_openai.api_key[-4:]}"
