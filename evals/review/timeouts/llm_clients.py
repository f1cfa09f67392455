"""OpenAI and Anthropic clients made with the SDK's default timeout (600 s, each call retried twice): a stalled
model holds the request or task far past its budget. A client given its timeout is fine."""

import anthropic
import httpx
import openai
from openai import AsyncOpenAI

from config import settings


def summary_client() -> openai.OpenAI:
    return openai.OpenAI(api_key=settings.OPENAI_API_KEY)  # expect: timeouts


def chat_client() -> AsyncOpenAI:
    return AsyncOpenAI(base_url=settings.LLM_URL, api_key=settings.LLM_KEY)  # expect: timeouts


def bounded_summary_client() -> openai.OpenAI:
    return openai.OpenAI(api_key=settings.OPENAI_API_KEY, timeout=httpx.Timeout(30, connect=5))


def available_models() -> list[str]:
    # a start-up probe: the SDK's 5 s connect timeout covers a host that is down
    client = openai.OpenAI(base_url=settings.LLM_URL, api_key=settings.LLM_KEY)
    return [model.id for model in client.models.list()]


def proxied_client(proxy: str | None) -> openai.OpenAI:
    # the options dict this function builds names no timeout (jumpserver's chat test)
    options = {"base_url": settings.LLM_URL, "api_key": settings.LLM_KEY}
    if proxy:
        options["http_client"] = httpx.Client(proxy=proxy)
    return openai.OpenAI(**options)  # expect: timeouts


def configured_client(timeout_s: float) -> openai.OpenAI:
    options = {"api_key": settings.LLM_KEY}
    options["timeout"] = timeout_s
    return openai.OpenAI(**options)


def forwarding_client(**options: object) -> openai.OpenAI:
    return openai.OpenAI(**options)  # the caller's options may carry the timeout


def claude_client() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=settings.ANTHROPIC_KEY)  # expect: timeouts


def bounded_claude_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=settings.ANTHROPIC_KEY, timeout=60.0, max_retries=1)
