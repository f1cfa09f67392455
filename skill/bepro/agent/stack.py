"""Whether the user's code, or the question, is synchronous: which Do example of a reference fits.

Some rules' first Do example is asyncio code (httpx.AsyncClient, asyncio.timeout); their
references also carry a synchronous variant. On three audits of answers about real files, an
asyncio example for sync `requests` in a Celery task or a gunicorn sync worker was a complaint
on 8 of 12 files: the user had to translate the advice before it applied.
"""

from __future__ import annotations

import re

# Code that awaits is asynchronous whatever else it imports (Django's async views included).
_ASYNC_CODE = re.compile(
    r"\basync\s+(def|with|for)\b|\bawait\b|\basyncio\b|\baiohttp\b|AsyncClient"
)
# Words that place a question on one side; a question naming both (gunicorn with uvicorn
# workers, Django with async views) is taken as asynchronous.
_ASYNC_WORDS = re.compile(
    r"\b(async|asyncio|await|aiohttp|fastapi|starlette|asgi|uvicorn|anyio|trio|event loop|"
    r"coroutines?)\b",
    re.IGNORECASE,
)
_SYNC_WORDS = re.compile(
    r"\b(django|flask|celery|gunicorn|wsgi|uwsgi|gthread|rq|sync workers?|synchronous|threads?"
    r"|threadpool|requests\.\w+|requests library|python-requests)\b",
    re.IGNORECASE,
)


def synchronous(question: str, code: str | None) -> bool:
    """True when the code (or, with no code, the question) is synchronous: code that never
    awaits, or a question that names a sync stack and no async one. With nothing to go on, the
    reference's first example stands (False)."""
    if code and code.strip():
        return not _ASYNC_CODE.search(code)
    return bool(_SYNC_WORDS.search(question)) and not _ASYNC_WORDS.search(question)
