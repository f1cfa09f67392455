"""Detectors for API contracts: idempotency of POST handlers that create resources."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bepro.review.context import ModuleContext
from bepro.review.detectors._scope import FUNCTIONS, body_nodes, walk
from bepro.review.detectors.routes import route_methods
from bepro.review.detectors.security import text_words
from bepro.review.registry import Hit, detector

# First word of a call that creates, charges or sends something a retry would repeat.
_SIDE_EFFECT_VERBS = frozenset(
    {"create", "charge", "pay", "transfer", "refund", "withdraw", "deposit", "purchase", "enqueue", "checkout"}
)  # fmt: skip
# `create_task`, `create_access_token`, `create_engine`: plumbing, not a resource the client asked for.
_PLUMBING_WORDS = frozenset(
    {"task", "tasks", "engine", "token", "access", "jwt", "app", "client", "connection", "pool",
     "context", "table", "tables", "index", "all", "default", "future", "loop", "subprocess", "logger",
     "response", "hash", "signature", "url", "parser", "model", "schema", "temp", "tmp", "directory",
     "dir", "session", "exception", "message", "completion", "embedding", "stream", "memory"}
)  # fmt: skip
_SENT_THINGS = frozenset(
    {"email", "emails", "mail", "sms", "notification", "push", "invoice", "receipt", "payment", "money",
     "welcome", "confirmation", "reminder"}
)  # fmt: skip
_IRREVERSIBLE_WORDS = frozenset(
    {"charge", "charges", "pay", "payment", "payments", "payout", "payouts", "transfer", "refund",
     "withdraw", "withdrawal", "deposit", "purchase", "checkout", "email", "emails", "mail", "sms",
     "notification", "push", "invoice", "receipt", "ledger", "wallet", "stripe", "psp"}
)  # fmt: skip
_ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task", "insert_one", "insert_many"})
# `client.chat.completions.create`: a model call, not a resource the handler creates.
_MODEL_API_WORDS = frozenset({"completions", "embeddings", "responses", "messages", "chat"})
# Names and header spellings that show the handler deduplicates retries itself (a row lock taken
# with `for_update` serialises the retry behind the first attempt, which it then sees).
_KEY_WORDS = frozenset({"idempotency", "idempotent", "dedup", "dedupe", "deduplication"})
# An event's, message's or job's own id deduplicates deliveries (webhooks, consumers, arq jobs).
_KEY_PHRASES = (("request", "id"), ("client", "token"), ("upsert",), ("get", "or", "create"),
                ("update", "or", "create"), ("on", "conflict"), ("event", "id"),
                ("message", "id"), ("job", "id"), ("delivery", "id"),
                ("for", "update"), ("advisory", "lock"))  # fmt: skip


@detector("post-without-idempotency-key", "idempotency", nodes=FUNCTIONS)
def post_without_idempotency_key(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A POST handler that moves money or sends a message (charge, pay, transfer, refund, an
    email or SMS) with no idempotency key: a client retrying after a timeout (the response lost,
    the work done) charges or sends twice, and that cannot be undone."""
    yield from _unprotected_effect(node, context, irreversible=True)


@detector("create-without-idempotency-key", "idempotency", nodes=FUNCTIONS)
def create_without_idempotency_key(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A POST handler that creates a row or enqueues a job with no idempotency key and nothing
    else in view that deduplicates it. Preview: a unique constraint on the model, which a single
    file does not show, often makes a retry fail instead of duplicating."""
    yield from _unprotected_effect(node, context, irreversible=False)


def _unprotected_effect(node: ast.AST, context: ModuleContext, irreversible: bool) -> Iterator[Hit]:
    assert isinstance(node, FUNCTIONS)  # noqa: S101 - registered for functions only
    if "POST" not in route_methods(node):
        return
    effects = [
        call for call in _side_effects(node, context) if _is_irreversible(call) == irreversible
    ]
    if not effects or _deduplicates(node):
        return
    effect = min(effects, key=lambda call: (call.lineno, call.col_offset))
    yield Hit(
        effect,
        f"`{ast.unparse(effect.func)}` in POST handler `{node.name}` runs again when a client "
        "retries (no idempotency key): accept an Idempotency-Key header and replay the stored "
        "result on retries",
    )


def _side_effects(
    function: ast.FunctionDef | ast.AsyncFunctionDef, context: ModuleContext
) -> list[ast.Call]:
    """The handler's calls with a side effect, found once for both idempotency detectors."""
    found = context.fact(_effects_by_handler)
    if id(function) not in found:
        found[id(function)] = [
            node
            for node in body_nodes(function)
            if isinstance(node, ast.Call) and _has_side_effect(node)
        ]
    return found[id(function)]


def _effects_by_handler(context: ModuleContext) -> dict[int, list[ast.Call]]:
    return {}  # filled by _side_effects as the handlers are reached


def _is_irreversible(call: ast.Call) -> bool:
    """Money moving or a message leaving: what a duplicate cannot take back."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    words = set(text_words(name)) | set(_receiver_words(func))
    return bool(words & _IRREVERSIBLE_WORDS)


def _has_side_effect(call: ast.Call) -> bool:
    func = call.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    if name[:1].isupper():
        return False  # `Transfer(...)` builds an object; adding or sending it is the effect
    receiver = _receiver_words(func)
    if name in ("add", "add_all"):  # session.add(order), db.add(user); not set.add
        return bool(receiver) and receiver[-1] in ("session", "db")
    if name in _ENQUEUE_METHODS:
        return True
    words = text_words(name)
    if not words or words[0] not in ("create", "send", "place", "process", *_SIDE_EFFECT_VERBS):
        return False
    if words[0] == "send":
        return len(words) > 1 and words[1] in _SENT_THINGS
    if words[0] in ("place", "process"):
        return bool({"order", "payment", "refund"} & set(words[1:]))
    if words == ("create",):
        return not set(receiver) & _MODEL_API_WORDS
    return not set(words[1:]) & _PLUMBING_WORDS


def _receiver_words(func: ast.expr) -> tuple[str, ...]:
    words: list[str] = []
    node = func.value if isinstance(func, ast.Attribute) else None
    while isinstance(node, ast.Attribute):
        words[:0] = text_words(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        words[:0] = text_words(node.id)
    return tuple(words)


def _deduplicates(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A parameter, header, name or SQL text in the handler mentions an idempotency key or upsert."""
    for node in walk(function):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.arg):
            text = node.arg
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        else:
            continue
        if _names_a_key(text_words(text)):
            return True
    return False


def _names_a_key(words: tuple[str, ...]) -> bool:
    if set(words) & _KEY_WORDS:
        return True
    return any(
        words[start : start + len(phrase)] == phrase
        for phrase in _KEY_PHRASES
        for start in range(len(words) - len(phrase) + 1)
    )
