"""Reading a Responses conversation (normalised input and output items): what the reply is about, whether it
asks for JSON, and how many input tokens it costs. Earlier reasoning items are not read and cost nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..content.tokenizer import count_message_tokens
from ._responses_input import Item

__all__ = ["mentions_json", "prompt_text", "transcript_tokens"]


def _texts(items: Iterable[Item]) -> Iterable[str]:
    for item in items:
        if item["type"] == "message":
            for part in item["content"]:
                text = part.get("text", part.get("refusal"))
                if isinstance(text, str):
                    yield text
        elif item["type"] == "function_call":
            yield item["arguments"]
        elif item["type"] == "function_call_output" and isinstance(item["output"], str):
            yield item["output"]


def prompt_text(transcript: Iterable[Item], instructions: str | None) -> str:
    """What the reply is about: the text of the last user message (else the instructions, else nothing)."""
    last = ""
    for item in transcript:
        if item["type"] == "message" and item["role"] == "user":
            last = "".join(_texts([item]))
    return last or instructions or ""


def mentions_json(transcript: Iterable[Item], instructions: str | None) -> bool:
    """Whether the word "json" appears in the input, which OpenAI requires for ``json_object`` output."""
    texts = [*_texts(transcript), instructions or ""]
    return any("json" in text.lower() for text in texts)


def transcript_tokens(transcript: Iterable[Item], instructions: str | None) -> int:
    """Input tokens, counted as the chat API counts the equivalent messages."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": instructions}] if instructions else []
    for item in transcript:
        if item["type"] == "message":
            messages.append({"role": item["role"], "content": [_chat_part(part) for part in item["content"]]})
        elif item["type"] == "function_call":
            call = {"function": {"name": item["name"], "arguments": item["arguments"]}}
            messages.append({"role": "assistant", "tool_calls": [call]})
        elif item["type"] == "function_call_output":
            output = item["output"]
            content = output if isinstance(output, str) else [_chat_part(part) for part in output]
            messages.append({"role": "tool", "content": content})
    return count_message_tokens(messages)


def _chat_part(part: Item) -> Item:
    kind = {"input_image": "image_url", "input_file": "file"}.get(part["type"], part["type"])
    return {**part, "type": kind}
