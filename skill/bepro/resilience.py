"""Deadlines, retry timing with full jitter, Retry-After, and a circuit breaker for outbound
calls: the LLM client and the Chroma server client use them."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Clock = Callable[[], float]


class DeadlineExceededError(Exception):
    """The command's overall budget ran out."""


@dataclass
class Deadline:
    """An absolute budget on the monotonic clock, shared by every attempt of one command."""

    seconds: float
    clock: Clock = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def remaining(self) -> float:
        return max(0.0, self.seconds - (self.clock() - self.started))

    def check(self) -> None:
        if self.remaining() <= 0:
            raise DeadlineExceededError(f"the {self.seconds:.0f} s deadline passed")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: sleep uniformly in [0, min(cap, base * 2**attempt)]."""

    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2**attempt))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), if parseable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class CircuitOpenError(Exception):
    """The breaker is open: the dependency failed repeatedly, so calls fail fast for a while."""


class CircuitBreaker:
    """Opens after `threshold` consecutive failures, stays open `cooldown` seconds, then lets one
    trial call through (half-open): success closes it, failure opens it again."""

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Clock = time.monotonic,
        name: str = "LLM",
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        with self._lock:
            state = self._state()
            if state == "open" or (state == "half-open" and self._trial_running):
                raise CircuitOpenError(
                    f"the {self.name} circuit breaker is open after repeated failures"
                )
            self._trial_running = state == "half-open"

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.threshold:
                self._opened_at = self._clock()
            self._trial_running = False


_BREAKERS: dict[str, CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def shared_breaker(key: str, threshold: int = 5, cooldown: float = 30.0) -> CircuitBreaker:
    """One breaker per upstream, shared by every call in a long-running process; the first
    caller's threshold and cooldown size it."""
    with _BREAKERS_LOCK:
        if key not in _BREAKERS:
            _BREAKERS[key] = CircuitBreaker(threshold, cooldown)
        return _BREAKERS[key]
