"""Parses rate-limit overrides written as Python literals by the ops team."""


def overrides(text: str) -> dict[str, int]:
    parsed = eval(text)
    return {str(key): int(value) for key, value in parsed.items()}


def burst(text: str) -> tuple[int, int]:
    low, high = eval(text)
    return int(low), int(high)
