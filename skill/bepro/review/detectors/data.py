"""Detectors for batching, transactions, outbox, id generation and caching.

Database objects are recognised by name (`session`, `conn`, `cursor`, `db`, ...) and, for
connections, by the call that created them; a detector stays silent when neither tells.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from bepro.review.context import ModuleContext, has_kwargs_splat, keyword
from bepro.review.detectors._scope import (
    AWS_CLIENT_FACTORIES,
    AWS_LOCAL_METHODS,
    FUNCTIONS,
    HTTP_CLIENT_FACTORIES,
    HTTP_VERBS,
    REDIS_CLIENTS,
    REDIS_URL_FACTORIES,
    body_nodes,
    factory_of,
    last_name,
    method_call,
    name_parts,
    own_nodes,
    walk,
)
from bepro.review.registry import Hit, detector

_DB_PARTS = frozenset(
    {"session", "conn", "connection", "db", "database", "cursor", "cur", "tx", "txn", "transaction",
     "pool", "uow", "engine"}
)  # fmt: skip


def _is_db_name(node: ast.AST) -> bool:
    name = last_name(node)
    return name is not None and bool(_DB_PARTS & set(name_parts(name)))


# ---------------------------------------------------------------- batching

_QUERY_METHODS = frozenset(
    {"execute", "fetch", "fetchrow", "fetchval", "scalar", "scalars", "exec"}
)
_QUERY_TERMINALS = frozenset(
    {"first", "one", "one_or_none", "scalar", "all", "get", "count", "exists"}
)
_NOT_ITEMS = frozenset(
    {"range", "itertools.count", "itertools.repeat", "itertools.groupby", "tenacity.Retrying"}
)
_BATCH_PARTS = frozenset(
    {"batch", "batches", "chunk", "chunks", "page", "pages", "group", "groups"}
)
_SIDE_EFFECTS = frozenset(
    {"publish", "basic_publish", "produce", "send", "send_message", "post", "put", "patch", "sendmail"}
)  # fmt: skip
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# `while` loops paginate; `async for` consumes a stream whose items arrive over time
_NOT_PER_ITEM = (ast.While, ast.AsyncFor, ast.Lambda, ast.ClassDef, *FUNCTIONS)


@detector("query-in-loop", "batching", nodes=(ast.Call,), callees=_QUERY_METHODS | _QUERY_TERMINALS)
def query_in_loop(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A query per item of a collection (N+1): N round trips where one query or executemany does.

    Only `for` loops and comprehensions over items count (not `while` pagination, `range` retries or
    loops over batches/chunks/pages), and the query must depend on the loop variable.
    """
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not _is_query(node):
        return
    loop = _item_loop(context)
    if loop is None:
        return
    iterated, varying = loop
    if _depends_on_item(node, varying):
        yield Hit(
            node,
            f"query runs once per item of `{iterated}` (N+1 round trips): load them in one query "
            "(IN/ANY, a join, selectinload) or write them with executemany / a bulk insert",
        )


@detector("commit-per-item", "batching", nodes=(ast.Call,), callees={"commit"})
def commit_per_item(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A commit inside a loop over items: one transaction, one round trip and one disk flush
    per row, where one commit after the loop (or one per batch) does the same work. A loop
    that rolls back a failed item and goes on commits per item on purpose (one bad row must not
    undo the others), and is left alone."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not _is_commit(node, context):
        return
    loop = _item_loop(context)
    if loop is not None and not _isolates_failures(context):
        yield Hit(
            node,
            f"commits once per item of `{loop[0]}` (a transaction and a disk flush per row): "
            "commit once after the loop, or once per batch of a few hundred rows",
        )


def _isolates_failures(context: ModuleContext) -> bool:
    """The commit sits in a `try` of the loop whose handler rolls back: per-item transactions."""
    for ancestor in reversed(context.stack):
        if isinstance(ancestor, ast.For | ast.While | ast.AsyncFor):
            return False
        if isinstance(ancestor, ast.Try) and any(
            isinstance(inner, ast.Attribute) and inner.attr == "rollback"
            for handler in ancestor.handlers
            for inner in walk(handler)
        ):
            return True
    return False


def _item_loop(context: ModuleContext) -> tuple[str, set[str]] | None:
    """(what is iterated, names that vary per item) when the node runs once per item of a collection."""
    child: ast.AST | None = None
    for ancestor in reversed(context.stack):
        if isinstance(ancestor, _NOT_PER_ITEM):
            return None
        if isinstance(ancestor, ast.For) and child in ancestor.body:
            return _over_items(ancestor.iter, [ancestor.target], context, ancestor.body)
        if isinstance(ancestor, _COMPREHENSIONS) and not isinstance(child, ast.comprehension):
            targets = [generator.target for generator in ancestor.generators]
            return _over_items(ancestor.generators[0].iter, targets, context, [])
        child = ancestor
    return None


def _over_items(
    iterable: ast.expr, targets: list[ast.expr], context: ModuleContext, body: list[ast.stmt]
) -> tuple[str, set[str]] | None:
    source = iterable
    if (
        isinstance(iterable, ast.Call)
        and iterable.args
        and context.call_name(iterable) in {"enumerate", "zip"}
    ):
        source = iterable.args[0]
    if isinstance(source, ast.Call) and context.call_name(source) in _NOT_ITEMS:
        return None
    if isinstance(source, ast.Tuple | ast.List | ast.Set):
        return None  # a fixed handful written in the code, not a collection that grows
    varying = {n.id for target in targets for n in walk(target) if isinstance(n, ast.Name)}
    words = {part for name in [*varying, *_identifiers(source)] for part in name_parts(name)}
    if words & _BATCH_PARTS:
        return None  # iterating batches is the fix, not the problem
    # a write that records a per-item publish or remote call (an outbox relay) stays per item
    if any(_side_effect(node) for node in own_nodes(body)):
        return None
    return ast.unparse(source), _derived(varying, body)


def _side_effect(node: ast.AST) -> bool:
    called = method_call(node)
    return called is not None and called[1] in _SIDE_EFFECTS


def _identifiers(node: ast.AST) -> list[str]:
    return [
        n.id if isinstance(n, ast.Name) else n.attr
        for n in walk(node)
        if isinstance(n, ast.Name | ast.Attribute)
    ]


def _derived(varying: set[str], body: list[ast.stmt]) -> set[str]:
    """The loop variables plus names assigned, in the body, from values that use them."""
    names = set(varying)
    for node in own_nodes(body):
        if isinstance(node, ast.Assign) and _loads(node.value) & names:
            names |= {
                n.id for target in node.targets for n in walk(target) if isinstance(n, ast.Name)
            }
    return names


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _is_query(call: ast.Call) -> bool:
    called = method_call(call)
    if called is None:
        return False
    receiver, method = called
    if method in _QUERY_METHODS:
        return _is_db_name(receiver)
    if method == "get" and len(call.args) == 2 and _is_db_name(receiver):
        return _looks_like_model(call.args[0])  # session.get(User, user_id)
    return method in _QUERY_TERMINALS and _is_orm_chain(receiver)


def _looks_like_model(node: ast.AST) -> bool:
    """`User` or `models.Order`: a CapWords class name, not an ALL_CAPS constant such as a URL."""
    name = last_name(node)
    return name is not None and name[:1].isupper() and not name.isupper()


def _is_orm_chain(node: ast.AST) -> bool:
    """`session.query(User).filter(...)`, `User.objects.filter(...)` or `User.objects`."""
    while isinstance(node, ast.Call | ast.Attribute):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and _looks_like_model(node.value)
        ):
            return True
        called = method_call(node)
        if called and called[1] == "query" and _is_db_name(called[0]):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _depends_on_item(call: ast.Call, varying: set[str]) -> bool:
    """The query's filters or parameters use the item, while what is queried stays the same.

    SQL text, a table or a DDL object that itself changes per item (`DropView(name)`,
    `table.select()`, `f"CREATE EXTENSION {name}"`) is a different statement each time, not N+1.
    """
    statement = call.args[0] if call.args else call.func
    if _loads(_chain_root(statement)) & varying:
        return False
    if isinstance(statement, ast.Call) or not call.args:
        return bool(_loads(call) & varying)
    params = [*call.args[1:], *(kw.value for kw in call.keywords)]
    return any(_loads(param) & varying for param in params)


def _chain_root(node: ast.AST) -> ast.AST:
    """The first call of a builder chain: `select(User)` in `select(User).where(...).limit(1)`."""
    root = node
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call):
            root = node
        node = node.func if isinstance(node, ast.Call) else node.value
    return root


# ---------------------------------------------------------------- id generation

_RANDOM_FUNCTIONS = frozenset(
    {"choice", "choices", "randint", "randrange", "getrandbits", "random", "sample"}
)
_PICKS = frozenset({"choice", "choices", "sample"})
# A random "hash" is a token under another name (open-event-server's password-reset and
# Facebook-login `hash_ = random.getrandbits(128)`, accepted as credentials).
_ID_PARTS = frozenset(
    {"id", "ids", "token", "key", "code", "secret", "password", "passwd", "nonce", "slug", "otp",
     "reference", "ref", "uid", "uuid", "guid", "salt", "pin", "hash"}
)  # fmt: skip
# Not nonces or salts: they need to be unique, not unguessable (an OAuth 1 nonce, a Cisco type 7
# salt printed with its hash: 4 of 4 not worth fixing among the corpus's random secrets).
_SECRET_PARTS = frozenset(
    {"token", "key", "code", "secret", "password", "passwd", "otp", "pin", "hash"}
)
_PRETEND_PARTS = frozenset({"test", "fake", "mock", "dummy", "sample"})
_NOT_ID_PARTS = _PRETEND_PARTS | {
    "delay", "jitter", "sleep", "backoff", "wait", "interval", "timeout", "sort", "order", "index",
    "idx", "weight", "seed", "status", "error", "exit", "http", "port", "color", "colour",
    "generator", "counter", "factory",
}  # fmt: skip
_UNIQUE_BITS = 64  # enough random bits that ids do not collide; predictability is then what matters


@detector("random-id", "id-generation", nodes=(ast.Call,), callees=_RANDOM_FUNCTIONS)
def random_id(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """An id or code drawn from the `random` module: collision-prone when short, and predictable.

    Short random ids collide (birthday bound); a wide one (64 bits or more) is left alone, and so
    are backoff jitter and sampling. A secret drawn the same way is `random-secret`.
    """
    drawn = _random_sink(node, context)
    if drawn is None or _is_secret_name(drawn[0]):
        return
    sink, call = drawn
    if (_random_bits(call) or 0) >= _UNIQUE_BITS:
        return  # a wide random id (trace ids): unique enough, and nobody needs to guess it
    yield Hit(
        node,
        f"`{sink}` comes from the random module, which collides when short and is predictable: "
        "use uuid4 (or UUIDv7/ULID for sortable keys) for ids, secrets.token_urlsafe() for codes",
    )


@detector("random-secret", "crypto", nodes=(ast.Call,), callees=_RANDOM_FUNCTIONS)
def random_secret(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A token, key, password, secret or one-time code drawn from the `random` module: Mersenne
    Twister output can be reconstructed from a few hundred values, so whoever sees some can
    forge the rest (maubot's signing secret, mediacms' unlisted-media tokens, open-event-server's
    password-reset hashes)."""
    drawn = _random_sink(node, context)
    if drawn is None or not _is_secret_name(drawn[0]):
        return
    yield Hit(
        node,
        f"`{drawn[0]}` comes from the random module, whose state can be recovered from its "
        "outputs: a secret must come from the secrets module (secrets.token_urlsafe(32))",
    )


def _random_sink(node: ast.AST, context: ModuleContext) -> tuple[str, ast.Call] | None:
    """The id-like name a draw from the random module ends up in, with the draw."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not _is_random_draw(node, context):
        return None
    sink = _identifier_sink(node, context)
    return None if sink is None else (sink, node)


def _is_secret_name(name: str) -> bool:
    """`reset_token`, `api_key`: a secret; `cache_key` (mealie's cache-busting suffix) is not."""
    parts = set(name_parts(name))
    return bool(parts & _SECRET_PARTS) and not ("key" in parts and parts & _PLAIN_KEY_KINDS)


# Keys that look things up rather than open them.
_PLAIN_KEY_KINDS = frozenset(
    {"cache", "shard", "partition", "bucket", "row", "lookup", "dedup", "idempotency", "sort",
     "order", "group", "dict", "map"}
)  # fmt: skip


def _random_bits(call: ast.Call) -> int | None:
    """How many random bits `getrandbits(n)`, `randint(a, b)` or `randrange(b)` draw, if constant."""
    method = (
        call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    )
    bounds = [_constant_int(arg) for arg in call.args[:2]]
    if method not in {"getrandbits", "randint", "randrange"} or not bounds or None in bounds:
        return None
    values = [bound for bound in bounds if bound is not None]
    if method == "getrandbits":
        return values[0]
    low, high = (0, values[0]) if len(values) == 1 else (values[0], values[1])
    count = high - low + (1 if method == "randint" else 0)
    return max(count, 1).bit_length() - 1


def _constant_int(node: ast.AST) -> int | None:
    """The value of an integer literal such as `2**64` or `10**8 - 1`, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if not isinstance(node, ast.BinOp):
        return None
    left, right = _constant_int(node.left), _constant_int(node.right)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Pow) and 0 <= right <= 1024:
        return int(left**right)
    operations = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
    return operations.get(type(node.op))


@detector("uuid1-id", "id-generation", nodes=(ast.Call,), callees={"uuid1"})
def uuid1_id(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """uuid1 is a timestamp plus the host's MAC address."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if context.call_name(node) == "uuid.uuid1":
        yield Hit(
            node,
            "uuid1() is a timestamp plus this host's MAC address: ids are guessable and tell "
            "which machine made them; use uuid4() (or UUIDv7 for sortable keys)",
        )


_UUID_HEX_DIGITS = 32


@detector("truncated-uuid", "id-generation", nodes=(ast.Subscript,))
def truncated_uuid(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`str(uuid4())[:8]` or `uuid4().hex[:12]` as an id: a few hex digits collide early."""
    assert isinstance(node, ast.Subscript)  # noqa: S101 - registered for ast.Subscript only
    cut = node.slice
    if not isinstance(cut, ast.Slice) or cut.step is not None or cut.lower is not None:
        return
    kept = _constant_int(cut.upper) if cut.upper is not None else None
    if kept is None or not 0 < kept < _UUID_HEX_DIGITS or not _is_uuid4_text(node.value, context):
        return
    sink = _identifier_sink(node, context)
    if sink is not None:
        yield Hit(
            node,
            f"`{sink}` keeps {kept} characters of a uuid4, at most {kept * 4} random bits: "
            f"collisions become likely after about {2 ** (kept * 2):,} ids; keep the whole uuid "
            "or use secrets.token_urlsafe(16)",
        )


def _is_uuid4_text(node: ast.expr, context: ModuleContext) -> bool:
    """`str(uuid.uuid4())` or `uuid.uuid4().hex`."""
    if isinstance(node, ast.Attribute) and node.attr == "hex":
        inner: ast.expr = node.value
    elif isinstance(node, ast.Call) and context.call_name(node) == "str" and len(node.args) == 1:
        inner = node.args[0]
    else:
        return False
    return isinstance(inner, ast.Call) and context.call_name(inner) == "uuid.uuid4"


_RANDOM_FACTORY = frozenset({"random.Random"})


def _is_random_draw(call: ast.Call, context: ModuleContext) -> bool:
    name = context.call_name(call) or ""
    if name.startswith("random.") and name.count(".") == 1:
        return name.removeprefix("random.") in _RANDOM_FUNCTIONS
    called = method_call(call)
    if called is None or called[1] not in _RANDOM_FUNCTIONS:
        return False
    return factory_of(context, called[0], context.stack, _RANDOM_FACTORY) == "random.Random"


def _identifier_sink(call: ast.expr, context: ModuleContext) -> str | None:
    """The id-like name the random value ends up in, climbing from the call to its statement.

    `random.choice(items)` alone picks an existing element (a replica, a sample key); it builds an
    identifier only when the picks are joined or formatted into a string.
    """
    called = method_call(call)
    picks = called is not None and called[1] in _PICKS
    child: ast.AST = call
    for parent in reversed(context.stack):
        picks = picks and not _builds_string(parent)
        sink = _sink_name(parent, child, context)
        if sink is not None or isinstance(parent, ast.stmt) or _stops_value(parent, child):
            return sink if sink is not None and not picks and _is_id_name(sink) else None
        child = parent
    return None


def _builds_string(node: ast.AST) -> bool:
    called = method_call(node)
    return isinstance(node, ast.JoinedStr) or (called is not None and called[1] == "join")


def _sink_name(parent: ast.AST, child: ast.AST, context: ModuleContext) -> str | None:
    if isinstance(parent, ast.keyword):
        return parent.arg
    if isinstance(parent, ast.Dict) and child in parent.values:
        key = parent.keys[parent.values.index(child)]
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return next((name for target in targets if (name := _target_name(target))), None)
    if isinstance(parent, ast.Return):
        function = context.enclosing_function()
        return function.name if function else None
    return None


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Subscript):
        key = target.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    return last_name(target)


def _stops_value(parent: ast.AST, child: ast.AST) -> bool:
    """The random value is used as a condition or loop bound here, not carried into a result."""
    if isinstance(parent, (ast.Compare, ast.BoolOp, ast.Lambda, *FUNCTIONS)):
        return True
    if isinstance(parent, ast.IfExp):
        return child is parent.test
    return isinstance(parent, ast.comprehension)


def _is_id_name(name: str) -> bool:
    """`order_id` is an id even though `order_key` (a shuffle key) is not: an explicit id word
    outweighs the words that usually mean something else."""
    parts = set(name_parts(name))
    if parts & _EXPLICIT_ID_PARTS:
        return not parts & _PRETEND_PARTS
    return bool(parts & _ID_PARTS) and not parts & _NOT_ID_PARTS


_EXPLICIT_ID_PARTS = frozenset({"id", "ids", "uid", "uuid", "guid"})


# ---------------------------------------------------------------- transactions

_TRANSACTION_METHODS = frozenset({"begin", "begin_nested", "transaction", "atomic"})
_CONNECTION_FACTORIES = frozenset(
    {"sqlite3.connect", "psycopg2.connect", "psycopg.connect", "sqlite3.Connection",
     "psycopg.Connection"}
)  # fmt: skip
_NETWORK_CALLS = frozenset(
    {f"{library}.{verb}" for library in ("requests", "httpx") for verb in HTTP_VERBS}
    | {"httpx.stream", "urllib.request.urlopen", "smtplib.SMTP", "smtplib.SMTP_SSL"}
)
_PRODUCERS = frozenset(
    {"kafka.KafkaProducer", "aiokafka.AIOKafkaProducer", "confluent_kafka.Producer"}
)
_NETWORK_CLIENTS = HTTP_CLIENT_FACTORIES | _PRODUCERS | {"smtplib.SMTP", "smtplib.SMTP_SSL"}
_CLIENT_CALLS = HTTP_VERBS | {"send", "stream", "sendmail", "send_message", "produce"}
_WAITS = frozenset({"time.sleep", "asyncio.sleep"})
# What can open a transaction: a `with` block, or a function decorated `@transaction.atomic`.
_TRANSACTION_SCOPES = (ast.With, ast.AsyncWith, ast.FunctionDef, ast.AsyncFunctionDef)


@detector("network-call-in-transaction", "transactions", nodes=_TRANSACTION_SCOPES)
def network_call_in_transaction(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A remote call inside a DB transaction, which holds locks and a connection meanwhile.

    The call's side effect is not rolled back with the transaction either.
    """
    found = _transaction_body(node, context)
    if found is None:
        return
    transaction, body = found
    ancestors = [*context.stack, node]
    for inner in body:
        if not isinstance(inner, ast.Call):
            continue
        if _is_network_call(inner, context, ancestors):
            yield Hit(
                inner,
                f"network call inside the transaction `{transaction}`: the transaction holds locks "
                "and a connection while the remote side is slow, and a rollback cannot undo the call; "
                "make the call before the transaction opens or after it commits (or use an outbox)",
            )
        elif context.call_name(inner) in _WAITS:
            yield Hit(
                inner,
                f"sleeping inside the transaction `{transaction}` holds its locks and connection "
                "for the whole wait: commit first, wait, then start a new transaction",
            )


_ENQUEUE_METHODS = frozenset({"delay", "apply_async"})


@detector("task-queued-in-transaction", "outbox", nodes=_TRANSACTION_SCOPES)
def task_queued_in_transaction(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A Celery task queued inside a DB transaction: a worker may pick it up before the commit (the
    rows it reads are not there yet), or run it for a change that is then rolled back. A task queued
    from `transaction.on_commit(lambda: ...)` runs after the commit and is not flagged."""
    found = _transaction_body(node, context)
    if found is None:
        return
    transaction, body = found
    for inner in body:
        called = method_call(inner) if isinstance(inner, ast.Call) else None
        if called is not None and called[1] in _ENQUEUE_METHODS:
            yield Hit(
                inner,
                f"`{ast.unparse(called[0])}.{called[1]}()` queues a task inside the transaction "
                f"`{transaction}`: a worker may run it before the commit, or for a change that is "
                "rolled back; queue it from transaction.on_commit (Celery 5.4: delay_on_commit) "
                "or an outbox",
            )


def _transaction_body(node: ast.AST, context: ModuleContext) -> tuple[str, list[ast.AST]] | None:
    """The expression that opens the transaction of this block or function, and the nodes that run
    inside it (nested functions and lambdas run later); None when there is none, or when it is an
    outbox relay's (which publishes inside the transaction that locks and marks its rows)."""
    transaction = _transaction(node, context)
    if transaction is None:
        return None
    body = list(own_nodes(getattr(node, "body", [])))
    return None if _mentions_outbox(body) else (transaction, body)


def _transaction(node: ast.AST, context: ModuleContext) -> str | None:
    """The expression that opens a transaction for this block or function, if any."""
    if isinstance(node, FUNCTIONS):
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if context.qualified_name(target) == "django.db.transaction.atomic":
                return "@" + ast.unparse(decorator)
        return None
    assert isinstance(node, ast.With | ast.AsyncWith)  # noqa: S101 - registered node types
    for item in node.items:
        expr = item.context_expr
        if _opens_transaction(expr, context):
            return ast.unparse(expr)
    return None


def _opens_transaction(expr: ast.expr, context: ModuleContext) -> bool:
    if isinstance(expr, ast.Call):
        name = context.call_name(expr)
        if name == "django.db.transaction.atomic" or name in _CONNECTION_FACTORIES:
            return True
        called = method_call(expr)
        return called is not None and called[1] in _TRANSACTION_METHODS and _is_db_name(called[0])
    return factory_of(context, expr, context.stack, _CONNECTION_FACTORIES) in _CONNECTION_FACTORIES


def _is_network_call(call: ast.Call, context: ModuleContext, ancestors: Sequence[ast.AST]) -> bool:
    if context.call_name(call) in _NETWORK_CALLS:
        return True
    called = method_call(call)
    if called is None:
        return False
    receiver, method = called
    if isinstance(receiver, ast.Call):  # `httpx.AsyncClient().post(...)`
        made_by = context.call_name(receiver)
    else:
        made_by = factory_of(context, receiver, ancestors, _NETWORK_CLIENTS | AWS_CLIENT_FACTORIES)
    if made_by in AWS_CLIENT_FACTORIES:
        return method not in AWS_LOCAL_METHODS and not method.startswith("_")
    return method in _CLIENT_CALLS and made_by in _NETWORK_CLIENTS


# ---------------------------------------------------------------- outbox

_PRODUCER_PARTS = frozenset({"producer", "kafka", "publisher", "broker", "bus"})
_BROKER_PARTS = _PRODUCER_PARTS | {
    "events", "event", "sns", "topic", "channel", "pubsub", "nats", "redis", "mq", "rabbit", "amqp",
    "queue", "stream", "emitter",
}  # fmt: skip
_QUEUE_PARTS = frozenset({"sqs", "queue"})
_PUBLISH_METHODS = frozenset(
    {"basic_publish", "produce", "put_events", "publish", "send", "send_and_wait", "send_message",
     "send_message_batch", "send_task"}
)  # fmt: skip


@detector("publish-outside-outbox", "outbox", nodes=(ast.Call,), callees=_PUBLISH_METHODS)
def publish_outside_outbox(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A broker publish in a function that also commits to the DB: a dual write.

    Published after the commit, a crash in between loses the event; published before, a failed
    commit announces a change that never happened. An outbox row written in the same transaction
    (relayed by a separate publisher) makes both happen or neither.
    """
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    function = context.enclosing_function()
    if function is None or not _is_publish(node) or "outbox" in function.name.lower():
        return
    nodes = list(body_nodes(function))
    commits = [
        inner.lineno
        for inner in nodes
        if isinstance(inner, ast.Call) and _is_commit(inner, context)
    ] + [  # leaving a `with session.begin():` block commits it
        inner.end_lineno or inner.lineno
        for inner in nodes
        if isinstance(inner, ast.With | ast.AsyncWith) and _transaction(inner, context)
    ]
    if commits and not _mentions_outbox(nodes):
        when = "after" if node.lineno > min(commits) else "before"
        yield Hit(
            node,
            f"message published {when} a separate DB commit (dual write): a crash or failed "
            "commit leaves the database and the broker disagreeing; write an outbox row in the "
            "same transaction and publish it from a relay",
        )


def _is_commit(node: ast.Call, context: ModuleContext) -> bool:
    if node.args or node.keywords:
        return False
    called = method_call(node)
    if called is None or called[1] != "commit":
        return False
    return _is_db_name(called[0]) or context.qualified_name(called[0]) == "django.db.transaction"


def _is_publish(call: ast.Call) -> bool:
    called = method_call(call)
    if called is None or not (call.args or call.keywords):
        return False
    receiver, method = called
    parts = set(name_parts(last_name(receiver) or ""))
    if method not in _PUBLISH_METHODS:
        return False
    if method in {"basic_publish", "produce", "put_events", "send_task"}:
        return True
    # `article.publish(editor)` is a model method, `bus.publish(event)` is not
    if method == "publish":
        return bool(parts & _BROKER_PARTS) or keyword(call, "TopicArn") is not None
    if method in {"send", "send_and_wait"}:
        return bool(parts & _PRODUCER_PARTS)
    if method in {"send_message", "send_message_batch"}:
        return bool(parts & _QUEUE_PARTS) or keyword(call, "QueueUrl") is not None
    return False


def _mentions_outbox(nodes: list[ast.AST]) -> bool:
    """An outbox table or helper named anywhere in the function (a name, attribute or SQL text)."""
    for node in nodes:
        text = last_name(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        if text and "outbox" in text.lower():
            return True
    return False


# ---------------------------------------------------------------- cache

_REMOTE_CACHE_PARTS = frozenset({"redis", "valkey", "memcache", "memcached"})
_SERIALISERS = frozenset({"dumps", "packb", "model_dump_json", "SerializeToString", "encode"})
# their `cache` objects apply a configured default timeout
_DEFAULT_TTL_LIBRARIES = ("django.", "flask_caching.", "flask_cache.")
_CACHE_FACTORIES = REDIS_CLIENTS | REDIS_URL_FACTORIES | {
    "aioredis.from_url", "aioredis.Redis", "valkey.Valkey", "valkey.from_url",
    "pymemcache.Client", "pymemcache.client.base.Client", "pymemcache.client.Client",
}  # fmt: skip
_TTL_KEYWORDS = frozenset(
    {"ex", "px", "exat", "pxat", "keepttl", "timeout", "ttl", "expire", "expires", "expiry"}
)
_EXPIRE_METHODS = frozenset({"expire", "pexpire", "expireat", "pexpireat"})


@detector("cache-fill-without-ttl", "cache", nodes=(ast.Call,), callees={"set"})
def cache_fill_without_ttl(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A read-through fill (`get`, miss, `set`) with no TTL keeps the entry until it is evicted.

    Stale values are served for as long as the key lives and memory only grows. Django's and
    Flask-Caching's `cache` apply a configured default timeout, so they are left alone; an object
    merely named `cache` counts only when it stores serialised values (a remote cache, not a dict).
    """
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    function = context.enclosing_function()
    called = method_call(node)
    if function is None or called is None or called[1] != "set" or not _lacks_ttl(node):
        return
    if not _is_cache_client(node, called[0], context):
        return
    key = _cache_key(node)
    calls = [inner for inner in body_nodes(function) if isinstance(inner, ast.Call)]
    methods = [(call, found[1]) for call in calls if (found := method_call(call))]
    if any(method in _EXPIRE_METHODS for _call, method in methods):
        return
    if any(
        method == "get" and call.lineno < node.lineno and _cache_key(call) == key
        for call, method in methods
    ):
        yield Hit(
            node,
            "cache fill with no TTL: the entry lives until evicted (or a client-wide default), so "
            "it goes stale and memory grows; pass ex=/px= (and check stampede protection on hot "
            "keys: a lock or early refresh)",
        )


def _is_cache_client(call: ast.Call, receiver: ast.expr, context: ModuleContext) -> bool:
    origin = factory_of(context, receiver, context.stack) or context.qualified_name(receiver) or ""
    if origin in _CACHE_FACTORIES:
        return True
    if origin.startswith(_DEFAULT_TTL_LIBRARIES):
        return False
    parts = set(name_parts(last_name(receiver) or ""))
    if parts & _REMOTE_CACHE_PARTS:
        return True
    return "cache" in parts and len(call.args) == 2 and _is_serialised(call.args[1])


def _is_serialised(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and last_name(value.func) in _SERIALISERS


def _cache_key(call: ast.Call) -> str | None:
    """The receiver and key of `cache.get(key)` / `cache.set(key, ...)`, as comparable text."""
    called = method_call(call)
    if called is None or not call.args:
        return None
    return ast.dump(called[0]) + ast.dump(call.args[0])


def _lacks_ttl(call: ast.Call) -> bool:
    if len(call.args) > 2 or has_kwargs_splat(call):
        return False
    return not any(kw.arg in _TTL_KEYWORDS for kw in call.keywords)
