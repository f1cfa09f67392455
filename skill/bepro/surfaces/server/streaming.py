"""OpenAI's streaming format for a chat completion computed whole: server-sent
`chat.completion.chunk` events, paragraph by paragraph, ending with [DONE]."""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from bepro.surfaces.answering import split_blocks
from bepro.surfaces.server.wire import ChatCompletionChunk, ChunkChoice, Delta, FinishReason, Usage


def sse(
    completion_id: str, model: str, text: str, finish: FinishReason, usage: Usage | None
) -> Iterator[str]:
    """A role chunk, content chunks, a finish chunk, usage (when asked for), [DONE]."""
    created = int(time.time())

    def event(choices: list[ChunkChoice], usage: Usage | None = None) -> str:
        chunk = ChatCompletionChunk(
            id=completion_id, created=created, model=model, choices=choices, usage=usage
        )
        return f"data: {chunk.model_dump_json()}\n\n"

    yield event([ChunkChoice(delta=Delta(role="assistant", content=""))])
    for block in split_blocks(text):
        yield event([ChunkChoice(delta=Delta(content=block))])
    yield event([ChunkChoice(delta=Delta(), finish_reason=finish)])
    if usage is not None:
        yield event([], usage)
    yield "data: [DONE]\n\n"


def event_stream(events: Iterator[str], extra: dict[str, str] | None = None) -> StreamingResponse:
    """Server-sent events, never cached or buffered by a proxy on the way."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(extra or {})}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
