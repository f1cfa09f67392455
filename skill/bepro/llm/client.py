"""Calls to any OpenAI-compatible server through the openai SDK, imported lazily.

Every call has a connect and a read timeout and runs inside the command's deadline. Only
timeouts, connection errors, 429 and 5xx are retried: bounded attempts, full-jitter backoff,
Retry-After honoured when it fits the deadline. A circuit breaker fails fast after repeated
failures. Nothing here logs the key, the prompt or the answer.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bepro.config import LLMSettings
from bepro.extras import require
from bepro.resilience import (
    Backoff,
    CircuitBreaker,
    CircuitOpenError,
    Deadline,
    DeadlineExceededError,
    retry_after_seconds,
    shared_breaker,
)

if TYPE_CHECKING:
    from openai import OpenAI

log = logging.getLogger(__name__)
T = TypeVar("T")
Message = dict[str, str]


class LLMError(Exception):
    """The LLM could not answer within the budget; callers fall back to the offline engine."""


@dataclass(frozen=True)
class LLMConfig:
    model: str
    base_url: str | None
    api_key: str = field(repr=False)
    settings: LLMSettings

    @property
    def breaker_key(self) -> str:
        return self.base_url or "https://api.openai.com/v1"


def breaker_for(config: LLMConfig) -> CircuitBreaker:
    """The process-wide breaker of this upstream, sized by `[tool.bepro.llm]`."""
    settings = config.settings
    return shared_breaker(config.breaker_key, settings.breaker_failures, settings.breaker_cooldown)


def resolve_llm_config(
    settings: LLMSettings, env: Mapping[str, str] | None = None
) -> LLMConfig | None:
    """The configured LLM, or None: a model name plus a key or a base URL (local servers)."""
    env = os.environ if env is None else env
    model = env.get("BEPRO_LLM_MODEL") or env.get("OPENAI_MODEL") or settings.model
    base_url = env.get("OPENAI_BASE_URL") or settings.base_url
    api_key = env.get("OPENAI_API_KEY")
    if not model or not (api_key or base_url):
        return None
    # Local servers (llama.cpp, vLLM, Ollama) accept any key; the SDK insists on one.
    return LLMConfig(model=model, base_url=base_url, api_key=api_key or "unused", settings=settings)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    model: str


class LLMClient:
    def __init__(
        self,
        config: LLMConfig,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        require("llm")
        self.config = config
        self.breaker = breaker or CircuitBreaker()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._sleep = sleep
        self._backoff = Backoff()
        self._sdk: OpenAI | None = None

    def _client(self) -> OpenAI:
        if self._sdk is None:
            from openai import OpenAI, Timeout

            settings = self.config.settings
            self._sdk = OpenAI(
                api_key=self.config.api_key,
                base_url=self.config.base_url,
                max_retries=0,  # retries are ours: bounded, jittered, deadline-aware
                timeout=Timeout(settings.read_timeout, connect=settings.connect_timeout),
            )
        return self._sdk

    def _timeout(self, deadline: Deadline) -> Any:
        from openai import Timeout

        settings = self.config.settings
        read = max(0.1, min(settings.read_timeout, deadline.remaining()))
        return Timeout(read, connect=min(settings.connect_timeout, read))

    def complete(
        self,
        messages: list[Message],
        deadline: Deadline,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        def call() -> Completion:
            extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
            response = self._client().chat.completions.create(
                model=self.config.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self.config.settings.max_tokens,
                temperature=0,
                timeout=self._timeout(deadline),
                **extra,
            )
            text = response.choices[0].message.content or "" if response.choices else ""
            return Completion(
                text=text, usage=_usage(response.usage, messages, text), model=response.model
            )

        return self._with_retries(call, deadline)

    def stream(self, messages: list[Message], deadline: Deadline) -> Iterator[str]:
        """Text deltas as they arrive; retried only until the first delta, then it must finish."""
        started = False

        def open_stream() -> Any:
            return self._client().chat.completions.create(
                model=self.config.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self.config.settings.max_tokens,
                temperature=0,
                stream=True,
                timeout=self._timeout(deadline),
            )

        chunks = self._with_retries(open_stream, deadline)
        finished = False
        try:
            for chunk in chunks:
                deadline.check()
                choice = chunk.choices[0] if chunk.choices else None
                if choice is not None and choice.delta.content:
                    started = True
                    yield choice.delta.content
                finished = finished or bool(choice is not None and choice.finish_reason)
            if not finished:  # the connection closed before the server said the answer was done
                raise ConnectionError("the stream ended without a finish reason")
            self.breaker.record_success()
        except DeadlineExceededError as exc:
            raise LLMError(f"the answer did not finish before the deadline: {exc}") from exc
        except Exception as exc:
            self.breaker.record_failure()
            where = "midway" if started else "before the first token"
            raise LLMError(f"the stream failed {where}: {type(exc).__name__}") from exc

    def _with_retries(self, call: Callable[[], T], deadline: Deadline) -> T:
        attempts = self.config.settings.max_attempts
        for attempt in range(attempts):
            try:
                deadline.check()
                self.breaker.before_call()
            except (DeadlineExceededError, CircuitOpenError) as exc:
                raise LLMError(str(exc)) from exc
            started = time.monotonic()
            try:
                result = call()
            except Exception as exc:
                retryable, wait = self._classify(exc, attempt)
                log.info(  # the user sees one notice at the end; details with --verbose
                    "llm call failed",
                    extra={
                        "attempt": attempt + 1,
                        "error": type(exc).__name__,
                        "retryable": retryable,
                    },
                )
                if not retryable:
                    raise LLMError(f"the LLM server refused the request: {_describe(exc)}") from exc
                self.breaker.record_failure()
                if attempt + 1 >= attempts or wait >= deadline.remaining():
                    raise LLMError(
                        f"the LLM failed after {attempt + 1} attempts: {_describe(exc)}"
                    ) from exc
                self._sleep(wait)
                continue
            self.breaker.record_success()
            log.info(
                "llm call",
                extra={"attempt": attempt + 1, "seconds": round(time.monotonic() - started, 3)},
            )
            return result
        raise LLMError("no attempt was made")  # unreachable: attempts >= 1

    def _classify(self, exc: Exception, attempt: int) -> tuple[bool, float]:
        """Whether to retry, and how long to wait first."""
        import openai

        backoff = self._backoff.delay(attempt, self._rng)
        if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
            return True, backoff
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if "response_format" in str(exc):  # a request the server cannot serve: do not repeat it
                return False, 0.0
            if status == 429 or status >= 500:
                retry_after = retry_after_seconds(exc.response.headers.get("retry-after"))
                return True, retry_after if retry_after is not None else backoff
            return False, 0.0
        return False, 0.0


def _usage(usage: Any, messages: list[Message], text: str) -> Usage:
    if usage is not None:
        return Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    prompt = estimate_tokens("".join(m["content"] for m in messages))
    completion = estimate_tokens(text)
    return Usage(prompt, completion, prompt + completion)


def estimate_tokens(text: str) -> int:
    """About four characters per token for English prose and code: good enough for budgets."""
    return max(1, len(text) // 4)


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} (HTTP {status})" if status else type(exc).__name__
