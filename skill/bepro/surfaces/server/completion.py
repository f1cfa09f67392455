"""How an answer becomes a completion's text, as OpenAI's models stop: at the first stop sequence
(`finish_reason: "stop"`), or at the token limit (`finish_reason: "length"`)."""

from __future__ import annotations

from bepro.surfaces.server.wire import CHARS_PER_TOKEN, FinishReason, estimate_tokens


def cut(text: str, stop: list[str], token_limit: int | None) -> tuple[str, FinishReason]:
    """The text before the first stop sequence, then at most `token_limit` estimated tokens."""
    ends = [end for end in (text.find(sequence) for sequence in stop if sequence) if end >= 0]
    if ends:
        text = text[: min(ends)]
    if token_limit is not None and estimate_tokens(text) > token_limit:
        return text[: token_limit * CHARS_PER_TOKEN], "length"
    return text, "stop"
