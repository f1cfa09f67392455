"""`bepro serve`: an OpenAI-compatible HTTP API over bepro's engine (FastAPI + uvicorn).

    GET  /v1/models[/{id}]     `bepro` (action inferred) and `bepro-<action>` for each action
    POST /v1/chat/completions  answers the conversation's last user message; `stream: true` sends
                               server-sent `chat.completion.chunk` events ending with [DONE]
    POST /v1/responses         OpenAI's Responses API over the same answers (plain and streamed)
    POST /v1/ask               question, action?, code? -> AskResult
    POST /v1/review            code, filename, limit?, select? -> findings by priority up to
                               limit, the rest counted in `omitted`, file issues, a summary
    GET  /healthz  /readyz     the process is alive / the index is open and answers can be served
                               (503 while a Chroma server does not answer: answers are degraded)
    GET  /metrics              Prometheus metrics (see surfaces/observability.py)

Answers come from bepro.Pack (bepro/pack.py): the offline engine, upgraded to the LLM when one is
configured (OPENAI_BASE_URL or OPENAI_API_KEY, plus BEPRO_LLM_MODEL or [tool.bepro.llm]); every
LLM failure falls back to the offline answer. One circuit breaker per upstream is shared by the
whole process. A streamed completion is computed whole, then sent paragraph by paragraph. No lock
is held while the LLM writes: retrieval runs at most one query per core (the pack's bound,
released before the LLM call), and the admission slots bound answer threads, not a lock.

Code is capped at 200 KB, questions at 4,000 characters; request models reject unknown fields.
The API takes code as text and never a path: the server reviews what it is sent, never files on
its own disk.

The modules, one seam each:
    wire.py       request and response bodies (pydantic)
    errors.py     OpenAI's error shape and the exception handlers
    runtime.py    the pack, its background index opening, admission and the LLM's time budget
    routes.py     the routes
    completion.py stop sequences and token limits
    streaming.py  server-sent events for a streamed completion
    responses.py  OpenAI's Responses API
    app.py        the FastAPI app factory and its middleware
    drain.py      on SIGTERM, in-flight requests finish while new ones get 503 + Connection: close
    process.py    binding, uvicorn workers, JSON logs, graceful shutdown
"""

from bepro.surfaces.server.app import create_app, create_server_app
from bepro.surfaces.server.process import listen, serve

__all__ = ["create_app", "create_server_app", "listen", "serve"]
