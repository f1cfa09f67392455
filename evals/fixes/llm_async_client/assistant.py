"""The chat assistant's model client, made once and shared by the async request handlers."""

from openai import AsyncOpenAI

from settings import LLM_KEY, LLM_URL

client = AsyncOpenAI(base_url=LLM_URL, api_key=LLM_KEY)


def chat_messages(history: list[tuple[str, str]], question: str) -> list[dict[str, str]]:
    messages = [{"role": role, "content": text} for role, text in history]
    return [*messages, {"role": "user", "content": question}]
