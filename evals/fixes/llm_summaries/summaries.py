"""Ticket summaries from a model behind an OpenAI-compatible server (vLLM in production)."""

import openai

MODEL = "qwen2.5-7b-instruct"


def summary_client(base_url: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=1)


def summary_request(ticket: str) -> dict[str, object]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"Summarize in one sentence:\n{ticket}"}],
        "max_tokens": 80,
    }
