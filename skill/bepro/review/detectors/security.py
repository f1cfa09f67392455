"""Detectors for secrets and PII in logs, and input validation."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bepro.review.context import ModuleContext, has_kwargs_splat, keyword, string_parts
from bepro.review.detectors._scope import (
    FUNCTIONS,
    admin_only,
    admin_route,
    assigned_values,
    body_nodes,
    calls_of_picked,
    last_name,
    name_parts,
    named_parameters,
    picked_names,
    walk,
)
from bepro.review.detectors.routes import route_methods
from bepro.review.registry import Hit, detector

Vocabulary = frozenset[tuple[str, ...]]
_NON_WORD = re.compile(r"\W+")


def text_words(text: str) -> tuple[str, ...]:
    """`user_email`, `userEmail`, `X-User-Email` -> ('user', 'email'), lower case."""
    return tuple(name_parts(_NON_WORD.sub("_", text)))


def _label(node: ast.AST) -> str | None:
    """The name a value goes by: `user.email`, `email`, `payload["email"]`, `payload.get("email")`
    -> 'email'."""
    key: ast.AST | None = None
    if isinstance(node, ast.Subscript):
        key = node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
    ):
        key = node.args[0] if node.args else None
    else:
        return last_name(node)
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _vocabulary(*terms: str) -> Vocabulary:
    return frozenset(tuple(term.split("_")) for term in terms)


# A name is sensitive when its words END with a term: `user_email` is, `email_count` is not.
# Bare `address` and `card` are left out: in service code they are mostly network addresses
# and UI cards.
_PII = _vocabulary(
    "email", "e_mail", "phone", "phone_number", "mobile_number", "msisdn", "ssn", "social_security_number", "dob", "date_of_birth",
    "birth_date", "birthdate", "card_number", "cardnumber", "credit_card", "pan", "iban", "full_name",
    "fullname", "ip_address", "ip_addr", "client_ip", "remote_ip", "user_ip", "home_address",
    "street_address", "billing_address", "shipping_address", "postal_address", "mailing_address",
)  # fmt: skip
_SECRETS = _vocabulary(
    "password", "passwd", "passphrase", "token", "secret", "api_key", "apikey", "secret_key",
    "private_key", "access_key", "signing_key", "authorization", "auth_header", "credentials",
    "credential", "cookie", "cookies", "session_id", "sessionid",
)  # fmt: skip
# `has_password`, `hashed_password`, `num_tokens`: facts about the value, not the value.
_DERIVED_PREFIXES = frozenset(
    {"has", "is", "was", "should", "needs", "require", "requires", "use", "can", "num", "n", "len",
     "count", "max", "min", "total", "hashed", "hash", "masked", "redacted", "encrypted", "valid",
     "validate", "verify", "check", "missing", "no"}
)  # fmt: skip
# `next_page_token`, `eos_token`: pagination cursors and tokenizer symbols are not credentials.
_NOT_CREDENTIAL_TOKENS = frozenset(
    {"page", "next", "continuation", "cancellation", "cancel", "sync", "eos", "bos", "pad", "unk",
     "sep", "cls", "mask", "special", "start", "end", "stop", "csrf_form"}
)  # fmt: skip
_SANITIZER_WORDS = frozenset(
    {"len", "hash", "hashed", "mask", "masked", "redact", "redacted", "obfuscate", "anonymize",
     "anonymise", "fingerprint", "digest", "sha256", "sha1", "md5", "bool", "type", "count",
     "scrub", "sanitize", "censor", "hide", "encrypt", "hmac", "last4", "truncate"}
)  # fmt: skip
# A person's full name only when it belongs to a person-like object (`user.full_name`).
_PERSON_TERMS = _vocabulary("full_name", "fullname")
_PERSON_WORDS = frozenset(
    {"user", "customer", "person", "profile", "account", "member", "employee", "patient",
     "contact", "owner", "recipient", "sender", "buyer", "applicant", "student", "author"}
)  # fmt: skip
_SPLITTERS = frozenset(
    {"split", "rsplit", "splitlines", "findall", "finditer", "tokenize", "generate_tokens"}
)
_PASS_THROUGH_CALLS = frozenset({"str", "repr", "format"})
_PASS_THROUGH_METHODS = frozenset(
    {"lower", "upper", "strip", "casefold", "title", "decode", "encode"}
)
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg"}
)
_LOGGER_WORDS = frozenset({"log", "logger", "logging", "structlog"})
_LOG_CONTROL_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel", "level"})


def sensitive(name: str, vocabulary: Vocabulary) -> tuple[str, ...] | None:
    """The vocabulary term `name` ends with, unless a qualifier makes it harmless."""
    words = text_words(name)
    for term in vocabulary:
        if words[-len(term) :] != term:
            continue
        qualifiers = words[: -len(term)]
        if qualifiers and qualifiers[0] in _DERIVED_PREFIXES:
            continue
        if term == ("token",) and qualifiers and qualifiers[-1] in _NOT_CREDENTIAL_TOKENS:
            continue
        return term
    return None


def _is_log_call(call: ast.Call, context: ModuleContext) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
        return False
    receiver = func.value
    if isinstance(receiver, ast.Call):  # structlog.get_logger().info(...)
        made_by = context.call_name(receiver) or ""
        return made_by.rsplit(".", 1)[-1] in ("get_logger", "getLogger")
    if context.qualified_name(receiver) == "logging":
        return True
    label = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    words = text_words(label)
    return bool(words) and words[-1] in _LOGGER_WORDS


def _logged_values(call: ast.Call) -> Iterator[tuple[str | None, ast.AST]]:
    """(label, expression) pairs a log call writes: positional values and structlog/extra fields."""
    for value in call.args:
        yield None, value
    for kw in call.keywords:
        if kw.arg is None or kw.arg in _LOG_CONTROL_KEYWORDS:
            continue
        if kw.arg == "extra":
            yield None, kw.value
        else:
            yield kw.arg, kw.value


def _leaks(
    label: str | None, value: ast.AST, vocabulary: Vocabulary, context: ModuleContext
) -> Iterator[ast.AST]:
    """The sub-expressions of a logged value that carry a sensitive value as-is."""
    if isinstance(value, ast.Constant) or _sanitized(value):
        return
    if label is not None and sensitive(label, vocabulary):
        yield value
        return
    own_name = _label(value)
    if own_name is not None:
        if _carries(value, own_name, vocabulary, context) or _dict_with_sensitive_entry(
            value, vocabulary, context
        ):
            yield value
        return
    for child_label, child in _parts(value):
        yield from _leaks(child_label, child, vocabulary, context)


def _carries(value: ast.AST, name: str, vocabulary: Vocabulary, context: ModuleContext) -> bool:
    """Whether `value`, known as `name`, holds the sensitive thing its name says."""
    term = sensitive(name, vocabulary)
    if term in _PERSON_TERMS and isinstance(value, ast.Attribute):
        owner = _label(value.value) or ""
        return bool(set(text_words(owner)) & _PERSON_WORDS)  # ext.full_name is a module's name
    if term == ("token",) and isinstance(value, ast.Name):
        return not _lexical_token(value.id, context)
    return term is not None


def _dict_with_sensitive_entry(
    value: ast.AST, vocabulary: Vocabulary, context: ModuleContext
) -> bool:
    """A local name bound to a dict literal with a sensitive key whose value is not a literal:
    `headers = {"Authorization": f"Bearer {token}"}`, then `log.warning(..., extra=headers)`."""
    function = context.enclosing_function()
    if not isinstance(value, ast.Name) or function is None:
        return False
    return any(
        isinstance(bound, ast.Dict)
        and any(
            label is not None
            and sensitive(label, vocabulary) is not None
            and not isinstance(item, ast.Constant)
            for label, item in _parts(bound)
        )
        for bound in assigned_values(function, value.id)
    )


def _lexical_token(name: str, context: ModuleContext) -> bool:
    """`for token in text.split(","):` - a piece of parsed text, not a credential."""
    return any(
        isinstance(loop, ast.For)
        and isinstance(loop.target, ast.Name)
        and loop.target.id == name
        and isinstance(loop.iter, ast.Call)
        and last_name(loop.iter.func) in _SPLITTERS
        for loop in context.stack
    )


def _parts(value: ast.AST) -> Iterator[tuple[str | None, ast.AST]]:
    """What a compound value is made of: f-string fields, `%` and `.format` arguments, containers."""
    if isinstance(value, ast.JoinedStr | ast.FormattedValue):
        children = value.values if isinstance(value, ast.JoinedStr) else [value.value]
        yield from ((None, child) for child in children)
    elif isinstance(value, ast.BinOp):
        yield from ((None, side) for side in (value.left, value.right))
    elif isinstance(value, ast.Tuple | ast.List | ast.Set):
        yield from ((None, item) for item in value.elts)
    elif isinstance(value, ast.BoolOp):
        yield from ((None, item) for item in value.values)
    elif isinstance(value, ast.IfExp):
        yield from ((None, branch) for branch in (value.body, value.orelse))
    elif isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=True):
            name = (
                key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
            )
            yield name, item
    elif isinstance(value, ast.Call):
        yield from _call_parts(value)


def _call_parts(call: ast.Call) -> Iterator[tuple[str | None, ast.AST]]:
    func = call.func
    name = last_name(func) or ""
    if isinstance(func, ast.Attribute) and name in _PASS_THROUGH_METHODS:
        yield None, func.value
    elif name in _PASS_THROUGH_CALLS or name == "dict":
        yield from ((None, arg) for arg in call.args)
        yield from ((kw.arg, kw.value) for kw in call.keywords if kw.arg is not None)


def _sanitized(value: ast.AST) -> bool:
    """`mask(email)`, `len(token)`, `email_hash`: a derived value that does not reveal the original."""
    name = _label(value.func if isinstance(value, ast.Call) else value) or ""
    return bool(set(text_words(name)) & _SANITIZER_WORDS)


def _log_leak(call: ast.AST, context: ModuleContext, vocabulary: Vocabulary) -> ast.AST | None:
    assert isinstance(call, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not _is_log_call(call, context):
        return None
    for label, value in _logged_values(call):
        for leak in _leaks(label, value, vocabulary, context):
            return leak
    return None


@detector("pii-in-log", "data-min", nodes=(ast.Call,), callees=_LOG_METHODS)
def pii_in_log(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """Personal data (email, phone, card number, IP address...) written to a log as-is: logs are
    kept long, copied widely and rarely covered by erasure requests. DEBUG lines are left out:
    production does not emit them, and each one found on real applications was judged not worth
    a change (bench/audit/); a credential at DEBUG is still flagged (secret-in-log)."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if isinstance(node.func, ast.Attribute) and node.func.attr == "debug":
        return
    leak = _log_leak(node, context, _PII)
    if leak is not None:
        shown = ast.unparse(leak)[:60]
        yield Hit(leak, f"`{shown}` is personal data written to a log: log an id, or mask it")


@detector("secret-in-log", "secrets", nodes=(ast.Call,), callees=_LOG_METHODS)
def secret_in_log(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A password, token, key or cookie written to a log: anyone who can read the logs can use it."""
    leak = _log_leak(node, context, _SECRETS)
    if leak is not None:
        shown = ast.unparse(leak)[:60]
        yield Hit(leak, f"`{shown}` is a credential written to a log: drop it or log a fingerprint")


_TELEMETRY_SINKS = frozenset({"set_attribute", "set_attributes", "add_event", "labels"})
_TELEMETRY_ROOTS = frozenset({"opentelemetry", "prometheus_client", "ddtrace", "sentry_sdk"})


@detector("pii-in-telemetry", "data-min", nodes=(ast.Call,), callees=_TELEMETRY_SINKS)
def pii_in_telemetry(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """Personal data as a span attribute or a metric label: traces are kept and shared like logs,
    and a label per email address also makes a time series per person."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not context.imports_any(_TELEMETRY_ROOTS) or not isinstance(node.func, ast.Attribute):
        return
    for label, value in _telemetry_values(node):
        for leak in _leaks(label, value, _PII, context):
            shown = ast.unparse(leak)[:60]
            yield Hit(
                leak,
                f"`{shown}` is personal data sent to traces or metrics: record an opaque id",
            )
            return


def _telemetry_values(call: ast.Call) -> Iterator[tuple[str | None, ast.AST]]:
    """(label, value) pairs: `set_attribute("user.email", v)` is labelled by its key."""
    args = list(call.args)
    if last_name(call.func) == "set_attribute" and len(args) == 2:
        key = args[0]
        label = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        yield label, args[1]
        return
    yield from ((None, arg) for arg in args)
    yield from ((kw.arg, kw.value) for kw in call.keywords if kw.arg is not None)


# --- input validation -------------------------------------------------------------------------

_LOOSE_TYPES = frozenset(
    {"dict", "typing.Dict", "typing.Any", "typing_extensions.Any", "Dict", "Any"}
)
_NOT_BODY_SOURCES = frozenset(
    {"Depends", "Security", "Query", "Header", "Path", "Cookie", "Form", "File"}
)


@detector("unvalidated-body", "input-validation", nodes=FUNCTIONS)
def unvalidated_body(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A FastAPI handler that takes its body as a bare dict/Any, or reads `await request.json()`
    and indexes it: nothing checks types, required fields or unknown keys before the code trusts them."""
    assert isinstance(node, FUNCTIONS)  # noqa: S101 - registered for functions only
    if not route_methods(node) or not _imports_fastapi(context):
        return
    if admin_route(node) or admin_only(context):  # a malformed body fails an operator's request
        return
    nodes = list(body_nodes(node))
    for arg, default in named_parameters(node.args):
        if (
            arg.annotation is not None
            and _loose_body(arg.annotation, default, context)
            and not _checked_in_handler(arg.arg, nodes)
        ):
            yield Hit(
                arg, f"`{arg.arg}` takes the request body unvalidated: declare a pydantic model"
            )
    if context.text_matches(_JSON_READ):  # no `.json(` call in the module: nothing indexed
        yield from _indexed_raw_json(node)


def _imports_fastapi(context: ModuleContext) -> bool:
    return any(target.split(".")[0] == "fastapi" for target in context.aliases.values())


def _loose_body(annotation: ast.expr, default: ast.expr | None, context: ModuleContext) -> bool:
    metadata: list[ast.expr] = [default] if default is not None else []
    if isinstance(annotation, ast.Subscript) and _tail(annotation.value, context) == "Annotated":
        parts = (
            annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        )
        annotation, metadata = parts[0], [*metadata, *parts[1:]]
    if any(
        isinstance(item, ast.Call)
        and (_tail(item.func, context) in _NOT_BODY_SOURCES or _raw_body(item, context))
        for item in metadata
    ):
        return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):  # dict | None
        sides = [annotation.left, annotation.right]
        return any(_is_loose(side, context) for side in sides if not _is_none_type(side))
    return _is_loose(annotation, context)


def _raw_body(item: ast.Call, context: ModuleContext) -> bool:
    """`Body(media_type="text/plain")`: a text body (frigate's YAML config), which the handler
    parses and validates itself; no pydantic model describes it."""
    media = keyword(item, "media_type")
    return (
        _tail(item.func, context) == "Body"
        and media is not None
        and isinstance(media.value, ast.Constant)
        and "json" not in str(media.value.value)
    )


def _is_loose(annotation: ast.expr, context: ModuleContext) -> bool:
    if isinstance(annotation, ast.Subscript):
        if _tail(annotation.value, context) == "Optional":
            return _is_loose(annotation.slice, context)
        annotation = annotation.value
    name = context.qualified_name(annotation)
    return name in _LOOSE_TYPES


def _tail(node: ast.AST, context: ModuleContext) -> str:
    return (context.qualified_name(node) or "").rsplit(".", 1)[-1]


def _is_none_type(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _indexed_raw_json(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Hit]:
    """`data = await request.json()` then `data["x"]` / `data.get("x")`, never handed to a model."""
    nodes = list(body_nodes(function))
    for node in nodes:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            continue
        if not _is_raw_json_read(node.value):
            continue
        name = node.targets[0].id
        if (
            _field_reads(name, nodes)
            and not _passed_to_call(name, nodes)
            and not _checked_in_handler(name, nodes)
        ):
            yield Hit(
                node,
                f"`{name}` is raw JSON used without validation: parse it into a pydantic model",
            )


_JSON_READ = re.compile(r"\.json\s*\(")


def _is_raw_json_read(value: ast.expr) -> bool:
    return (
        isinstance(value, ast.Await)
        and isinstance(value.value, ast.Call)
        and isinstance(value.value.func, ast.Attribute)
        and value.value.func.attr == "json"
        and isinstance(value.value.func.value, ast.Name)
        and "request" in text_words(value.value.func.value.id)
    )


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _model_calls(nodes: list[ast.AST]) -> list[ast.Call]:
    """Calls that build a model: a class (`TaskDTO(...)`, by its capital) or a validator
    (`Model.model_validate(...)`, `parse_obj`)."""
    return [
        node
        for node in nodes
        if isinstance(node, ast.Call)
        and ((last_name(node.func) or "_")[0].isupper() or last_name(node.func) in _VALIDATORS)
    ]


_VALIDATORS = frozenset({"model_validate", "parse_obj", "validate_python"})


def _checked_in_handler(name: str, nodes: list[ast.AST]) -> bool:
    """The handler checks the body itself before trusting it: the whole of it goes into a model,
    or every field read of it does, or every read sits in a `try` whose handler answers a
    missing key (tasking-manager's `username = data["username"]` under `except Exception:`
    returning 400)."""
    reads, models = _field_reads(name, nodes), _model_calls(nodes)
    return (
        _built_into_model(name, models)
        or _reads_built_into_models(reads, models, nodes)
        or _reads_guarded(reads, nodes)
    )


def _field_reads(name: str, nodes: list[ast.AST]) -> list[ast.AST]:
    """`body["x"]` and `body.get("x")`."""
    return [
        node
        for node in nodes
        if (isinstance(node, ast.Subscript) and _is_name(node.value, name))
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_name(node.func.value, name)
        )
    ]


# What a missing key raises, and the handlers that catch it.
_MISSING_KEY_CATCHERS = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})


def _reads_guarded(reads: list[ast.AST], nodes: list[ast.AST]) -> bool:
    guarded = {
        id(inner)
        for node in nodes
        if isinstance(node, ast.Try | ast.TryStar)
        and any(_catches_missing_key(handler) for handler in node.handlers)
        for statement in node.body
        for inner in walk(statement)
    }
    return bool(reads) and all(id(read) in guarded for read in reads)


def _catches_missing_key(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(last_name(kind) in _MISSING_KEY_CATCHERS for kind in caught)


def _built_into_model(name: str, models: list[ast.Call]) -> bool:
    """The whole body handed to a model (tasking-manager's `UserDTO(**data)` in a try that
    answers 400): a dict parameter validated on the handler's first lines."""
    return any(
        _is_name(value.value if isinstance(value, ast.Starred) else value, name)
        for call in models
        for value in [*call.args, *(kw.value for kw in call.keywords)]
    )


def _reads_built_into_models(
    reads: list[ast.AST], models: list[ast.Call], nodes: list[ast.AST]
) -> bool:
    """Every field read goes into a model's arguments, directly
    (`StopMappingTaskDTO(comment=data.get("comment"))`) or through the one name it is read
    into (`message = data.get("message")`, then `ChatMessageDTO(message=message)`)."""
    inside = {
        id(inner)
        for call in models
        for value in [*call.args, *(kw.value for kw in call.keywords)]
        for inner in walk(value)
    }
    held = {
        node.targets[0].id: node.value
        for node in nodes
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }
    carried = {
        id(value)
        for local, value in held.items()
        if any(isinstance(n, ast.Name) and n.id == local and id(n) in inside for n in nodes)
    }
    return bool(reads) and all(id(read) in inside or id(read) in carried for read in reads)


def _passed_to_call(name: str, nodes: list[ast.AST]) -> bool:
    """Handed to anything (`Model(**data)`, `validate(data)`): assume it is checked there."""
    for node in nodes:
        if isinstance(node, ast.Call):
            values = [*node.args, *(kw.value for kw in node.keywords)]
            if any(
                _is_name(value, name)
                or (isinstance(value, ast.Starred) and _is_name(value.value, name))
                for value in values
            ):
                return True
    return False


# ---------------------------------------------------------------- secrets in the source

# Credentials recognisable by their shape, whatever the variable is called (ruff's S105-S107
# go by the name): AWS access key ids, private key blocks, passwords inside URLs, and the
# GitHub, Slack and Stripe live-key formats.
_CREDENTIAL_SHAPES = re.compile(
    # each alternative starts with a literal character, so scanning a whole file stays cheap
    r"(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    # a key's body, not the marker alone that code compares with (Mailu's PEM check)
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\s*(?:[A-Za-z0-9+/=]{16}|Proc-Type:)"
    # (no backslash or parenthesis: that is a regular expression for URLs, takahe's URL_REGEX)
    r"|://[^\s/:@{}<>$\[\]()\\'\"]+:[^\s/@{}<>$*\[\]()\\'\"]{3,}@[^\s/'\"]"
    r"|gh[pousr]_[A-Za-z0-9]{36}\b|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}"
)
# A password for a server on this machine (`@localhost`, `@127.0.0.1`) is a developer default
# (a docker-compose database), not a deployed secret: 2 of 2 such findings on real apps were.
# So is the stock password of a public image (postgres, RabbitMQ, MinIO) in a fallback URL: 2 of
# 2 in tracecat's settings (held-out round 15) were the compose file's own database.
_PLACEHOLDERS = (
    "example", ":password@", ":pass@", ":secret@", ":changeme@", "xxx",
    "@localhost", "@127.0.0.1", "@[::1]", ":postgres@", ":guest@", ":minioadmin@",
)  # fmt: skip


@detector("credential-literal", "secrets", nodes=(ast.Module,))
def credential_literal(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A string literal shaped like a live credential: anyone who can read the code (or its git
    history) can use it, and rotating it means a deploy."""
    if not context.text_matches(_CREDENTIAL_SHAPES):
        return
    docstrings = {
        id(statement.value)
        for statement in walk(node)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    }  # documentation shows URL shapes; it configures nothing
    for inner in walk(node):
        if (
            isinstance(inner, ast.Constant)
            and isinstance(inner.value, str)
            and id(inner) not in docstrings
        ):
            text = inner.value.lower()
            if _CREDENTIAL_SHAPES.search(inner.value) and not any(w in text for w in _PLACEHOLDERS):
                yield Hit(
                    inner,
                    "a credential is written in the source: load it from the environment or a "
                    "secret manager, and rotate this one",
                )


_ENV_READS = frozenset({"os.environ.get", "os.getenv"})
# django-environ's `env("X", default=...)` / `env.str(...)` and python-decouple's `config(...)`
_ENV_LIBRARIES = frozenset({"environ", "decouple"})
_LIBRARY_READS = frozenset({"env", "env.str", "decouple.config"})
_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1", "none"})
# `SECRET_KEY_ID`, `TOKEN_URL`: names about a secret, not the secret itself
_NOT_SECRET_VALUES = frozenset({"id", "name", "url", "uri", "path", "file", "region", "ttl"})
# Keys that sign sessions, cookies and tokens (Django's SECRET_KEY, JWT_SECRET): with the
# fallback in use anyone can forge a login. A credential for a store (AWS_SECRET_ACCESS_KEY,
# RABBITMQ_PASSWORD) that falls back to a bundled service's stock value only fails to connect.
_SIGNING_WORDS = frozenset({"jwt", "signing", "session", "cookie", "csrf", "hmac"})
_STORE_WORDS = frozenset({"access", "api", "client", "aws", "s3", "storage", "minio", "db"})


def _env_fallback(node: ast.Call, context: ModuleContext) -> tuple[str, str] | None:
    """(variable, literal default) of an environment read that falls back to a literal."""
    name = context.call_name(node)
    if name in _ENV_READS and len(node.args) == 2:
        default: ast.expr | None = node.args[1]
    elif name in _LIBRARY_READS and context.imports_any(_ENV_LIBRARIES) and len(node.args) == 1:
        found = keyword(node, "default")
        default = found.value if found else None
    else:
        return None
    variable = node.args[0]
    if not (isinstance(variable, ast.Constant) and isinstance(variable.value, str)):
        return None
    if not (isinstance(default, ast.Constant) and isinstance(default.value, str) and default.value):
        return None
    if default.value.strip().lower() in _FLAG_VALUES:
        return None  # `ALLOW_CREDENTIALS` defaulting to "false": a switch about secrets, not one
    return variable.value, default.value


def _signs(variable: str) -> bool:
    words = set(text_words(variable))
    if words & _STORE_WORDS or text_words(variable)[-1] in _NOT_SECRET_VALUES:
        return False
    return {"secret", "key"} <= words or bool(words & _SIGNING_WORDS and words & {"secret", "key"})


@detector("secret-fallback", "secrets", nodes=(ast.Call,), callees={"get", "getenv"})
def secret_fallback(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`os.environ.get("SMTP_PASSWORD", "dev-secret")`: when the variable is missing, the service
    starts anyway, with a secret that is in the source. Signing keys are signing-key-fallback's."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    found = _env_fallback(node, context) if context.call_name(node) in _ENV_READS else None
    if found is None or _signs(found[0]):
        return
    variable = found[0]
    if sensitive(variable, _SECRETS) and text_words(variable)[-1] not in _NOT_SECRET_VALUES:
        yield Hit(
            node,
            f"`{variable}` falls back to a secret written in the source: a missing variable "
            "goes unnoticed; fail at startup instead (os.environ[...] or a settings model)",
        )


@detector(
    "signing-key-fallback",
    "secrets",
    nodes=(ast.Call,),
    callees={"get", "getenv", "env", "str", "config"},
)
def signing_key_fallback(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "onlyusethisindev")`: a deploy that misses the
    variable starts anyway and signs sessions with a key anyone can read in the source, so
    anyone can forge a login. Django warns only under `check --deploy`."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    found = _env_fallback(node, context)
    if found is None or not _signs(found[0]):
        return
    yield Hit(
        node,
        f"`{found[0]}` falls back to a key written in the source: a deploy that misses the "
        "variable signs sessions and tokens with a key anyone can read; read it with no default "
        "so the start fails",
    )


_SQL_START = re.compile(
    r"^\s*(select|insert|update|delete|merge|replace|upsert|with)\b.*\b(from|into|set|where|values)\b",
    re.IGNORECASE | re.DOTALL,
)
# Interpolated names that are identifiers (a table, a column, a sort key, a database function
# to call: mathesar's `SELECT * FROM msar.{func_name}(...)`; awx's `{tblname}`, `{pkfield}`)
# rather than values: they cannot be bound as parameters, and are usually checked against a
# fixed list.
_IDENTIFIER_WORDS = frozenset(
    {"table", "tables", "column", "columns", "col", "cols", "schema", "field", "fields", "order",
     "sort", "direction", "dir", "index", "name_of", "tablename", "placeholders", "clause",
     "func", "function", "proc", "procedure", "condition", "conditions", "where", "predicate",
     "filter", "filters", "queryfilter", "wherestatement", "by", "tbl", "tblname", "colname",
     "pkfield"}
)  # fmt: skip


# An object's primary key (`{tile.pk}`: arches' model row, a UUID its field validated): a key
# read from a row or checked by its model, never free text.
_KEY_ATTRIBUTES = frozenset({"pk", "id"})


@detector("sql-from-parameters", "input-validation", nodes=(ast.Call,), callees={"execute"})
def sql_from_parameters(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`cursor.execute(query)` where the SQL text was built from the function's own parameters
    (f-string, `%`, `.format`, `+`, `+=`), directly or in a variable first: whatever reaches that
    parameter reaches the database as SQL. Values interpolated into identifiers (`table`,
    `order`) and constants are left alone: they cannot be bound as parameters. So is a parameter
    the function itself uses as the head of a statement (`f"{query} {where}"`): a query builder
    composes SQL text by contract, and what reaches it is judged at its callers."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    function = context.enclosing_function()
    if function is None or not node.args:
        return
    built = _sql_text_parts(node.args[0], function)
    if not built:  # most runs take a literal or a bound statement: no need to read the function
        return
    parameters = {
        arg.arg for arg, _ in named_parameters(function.args) if not _closed_set(arg.annotation)
    } - {"self", "cls"}
    parameters -= _statement_heads(function)
    runner = node.func.value if isinstance(node.func, ast.Attribute) else None
    tainted = sorted(
        name
        for part in built
        for name in _interpolated_names(part, runner)
        if name in parameters and not set(text_words(name)) & _IDENTIFIER_WORDS
    )
    if tainted:
        yield Hit(
            node,
            f"SQL built from `{tainted[0]}` and run: pass values as bound parameters "
            "(`execute(sql, params)`), never as SQL text",
        )


def _closed_set(annotation: ast.expr | None) -> bool:
    """`entry_type: Literal["calendar", "reminders"]`: the type admits a few constants only."""
    return (
        isinstance(annotation, ast.Subscript)
        and last_name(annotation.value) == "Literal"
        and all(isinstance(value, ast.Constant) for value in walk(annotation.slice)
                if not isinstance(value, ast.Tuple | ast.Load))
    )  # fmt: skip


def _sql_text_parts(argument: ast.expr, function: ast.AST) -> list[ast.expr]:
    """The expressions that built the SQL: the argument itself, or every value assigned (`=`,
    `+=`) to the name it is, when one of them starts like a SQL statement."""
    parts = assigned_values(function, argument.id) if isinstance(argument, ast.Name) else [argument]
    built = [part for part in parts if _builds_text(part)]
    starts = any(_SQL_START.match(_literal_prefix(part)) for part in parts)
    return built if starts else []


def _builds_text(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "format"


def _literal_prefix(node: ast.expr) -> str:
    """The literal text a SQL-building expression starts with."""
    while isinstance(node, ast.BinOp):
        node = node.left
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value  # "...".format(...)
    return string_parts(node)


def _interpolated_names(node: ast.expr, runner: ast.expr | None) -> Iterator[str]:
    """Names whose values become part of the text (not the literal pieces). The connection that
    runs the statement is not one where it supplies a piece itself (`db.execute(f"... <
    {db.timestamp_now} ... = {db.timestamp_placeholder('at')}", values)`): that is its
    dialect's SQL, not data."""
    runner_name = runner.id if isinstance(runner, ast.Name) else None
    dialect = {
        id(inner.value)
        for inner in walk(node)
        if isinstance(inner, ast.Attribute)
        and runner_name is not None
        and _is_name(inner.value, runner_name)
    }
    quoted = {id(inner) for value in _quoted_identifiers(node) for inner in walk(value)}
    counted = {id(inner) for value in _counted_only(node) for inner in walk(value)}
    named = {
        id(inner)
        for attribute in walk(node)
        if isinstance(attribute, ast.Attribute)
        and (
            attribute.attr in _KEY_ATTRIBUTES or set(text_words(attribute.attr)) & _IDENTIFIER_WORDS
        )
        for inner in walk(attribute)
    }  # `{token.db_table}`: an object's table name, not its data
    excluded = dialect | quoted | counted | named
    for inner in walk(node):
        if isinstance(inner, ast.Name) and id(inner) not in excluded:
            yield inner.id


def _counted_only(node: ast.expr) -> Iterator[ast.expr]:
    """Values whose size, not content, reaches the text: `",".join("?" * len(keys))`, and the
    iterable of `"?" for _ in names` (rotki builds its placeholder lists both ways)."""
    for inner in walk(node):
        if isinstance(inner, ast.Call) and last_name(inner.func) == "len" and inner.args:
            yield inner.args[0]
        elif isinstance(inner, ast.GeneratorExp | ast.ListComp):
            targets = {
                name.id
                for generator in inner.generators
                for name in walk(generator.target)
                if isinstance(name, ast.Name)
            }
            used = {name.id for name in walk(inner.elt) if isinstance(name, ast.Name)}
            if not targets & used:
                yield from (generator.iter for generator in inner.generators)


def _quoted_identifiers(node: ast.expr) -> Iterator[ast.expr]:
    """Values an f-string puts where SQL takes a name, not a value to bind: between double
    quotes (`FROM "{schema}"."{table}"`, `WHERE "{column}" = ANY(%s)`: a name koku reads from
    the catalog; after a comparison, `name = "{name}"`, MySQL reads it as a string), or right
    after a keyword that a table name follows (cobbler's `SELECT item FROM {collection_type}`)."""
    for inner in walk(node):
        if not isinstance(inner, ast.JoinedStr):
            continue
        values = inner.values
        for index, value in enumerate(values[1:], start=1):
            if not isinstance(value, ast.FormattedValue):
                continue
            text = string_parts(values[index - 1])
            after = string_parts(values[index + 1]) if index + 1 < len(values) else ""
            quoted = text.endswith('"') and after.startswith('"')
            if (quoted and not _VALUE_BEFORE.search(text[:-1])) or _TABLE_BEFORE.search(text):
                yield value.value


# What comes before a value in SQL rather than a name.
_VALUE_BEFORE = re.compile(r"(=|<|>|\(|\blike|\bin)\s*$", re.IGNORECASE)
# What comes right before a table's name, a schema's prefix allowed (`FROM msar.{table}`).
_TABLE_BEFORE = re.compile(r"\b(from|join|into|update|table)\s+(\w+\.)?$", re.IGNORECASE)


# Calls whose first argument is a whole SQL statement that they run.
_RUNS_SQL = frozenset(
    {"execute", "executemany", "exec_driver_sql", "fetch", "fetchall", "fetchone", "fetchrow",
     "fetchval", "fetch_all", "fetch_one", "fetch_val", "raw", "text"}
)  # fmt: skip


def _statement_heads(function: ast.AST) -> set[str]:
    """Parameters the function runs as the start of a statement (`db.fetchall(f"{query}
    {clause}")`): SQL text it was handed, not values."""
    heads: set[str] = set()
    for inner in body_nodes(function):
        if not (isinstance(inner, ast.Call) and inner.args and last_name(inner.func) in _RUNS_SQL):
            continue
        text = inner.args[0]
        if not isinstance(text, ast.JoinedStr):
            continue
        pieces = [
            value
            for value in text.values
            if not (isinstance(value, ast.Constant) and not str(value.value).strip())
        ]
        if pieces and isinstance(pieces[0], ast.FormattedValue):
            head = pieces[0].value
            if isinstance(head, ast.Name):
                heads.add(head.id)
    return heads


# Where an LDAP search takes its filter: python-ldap's search_s/search_st/search_ext(_s) third
# (filterstr=), ldap3's Connection.search and paged_search second (search_filter=). python-ldap's
# own `search(base, scope, filterstr)` is told apart by its scope argument.
_LDAP_FILTER_POSITIONS = {
    "search_s": 2, "search_st": 2, "search_ext": 2, "search_ext_s": 2, "search": 1,
    "paged_search": 1,
}  # fmt: skip
_LDAP_FILTER_KEYWORDS = ("filterstr", "search_filter")
_LDAP_ESCAPES = frozenset({"escape_filter_chars", "filter_format"})
# Where a directory search decides who logs in: a module or function of authentication. There the
# name is what a stranger typed; lego's nightly LDAP sync searches with validated usernames and
# ids, and modoboa's password change with the account's own name (judged not worth a change).
_LOGIN_CODE = re.compile(r"auth|login|signin|signup|security|sso")
# Parameters that name an attribute, not a value (caldera's `(%s=%s)" % (user_attr, username)`):
# the directory's schema, from configuration.
_LDAP_NAME_WORDS = frozenset({"attr", "attrs", "attribute", "attributes", "field", "objectclass"})
# Attributes that hold what a request carried (mealie's `self.data.username`).
_REQUEST_PARTS = frozenset({"request", "data", "form", "args", "json", "params", "payload", "body"})


def _unwrapped(node: ast.expr) -> ast.expr:
    """x for `str(x)` or `force_str(x)`: the same text."""
    while isinstance(node, ast.Call) and last_name(node.func) in {"str", "force_str"} and node.args:
        node = node.args[0]
    return node


@detector(
    "ldap-filter-unescaped",
    "input-validation",
    nodes=(ast.Call,),
    callees=set(_LDAP_FILTER_POSITIONS),
)
def ldap_filter_unescaped(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """An LDAP search in authentication code whose filter was built (f-string, `%`, `+`,
    `.format`, `.replace`) from a function's parameter or a request's data with no
    escape_filter_chars(): a login name such as `*)(uid=*` rewrites the filter (the recall notes
    of etesync's signup check; the logins of mealie and cobbler build theirs the same way)."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    function = context.enclosing_function()
    if function is None or not context.imports_any(frozenset({"ldap", "ldap3"})):
        return
    if not _LOGIN_CODE.search(f"{context.path} {function.name}".lower()):
        return  # a directory sync or an admin tool searches with the application's own data
    if (context.call_name(node) or "").split(".")[0] in {"re", "regex"}:
        return  # re.search(pattern, text) in the same module
    argument = _ldap_filter_argument(node)
    if argument is None:
        return
    parameters = {
        arg.arg
        for arg, _ in named_parameters(function.args)
        if arg.arg not in {"self", "cls"} and not set(name_parts(arg.arg)) & _LDAP_NAME_WORDS
    }
    sources = (
        _unescaped_input(value, parameters, function)
        for built in _filter_texts(argument, function)
        for value in _interpolated_values(built)
    )
    source = next((found for found in sources if found is not None), None)
    if source is not None:
        yield Hit(
            node,
            f"LDAP filter built from `{source}` with no escape_filter_chars(): a value such as "
            "`*)(uid=*` rewrites the search; escape each value (ldap.filter.escape_filter_chars, "
            "ldap3.utils.conv.escape_filter_chars) or build the filter with "
            "ldap.filter.filter_format",
        )


def _ldap_filter_argument(call: ast.Call) -> ast.expr | None:
    for name in _LDAP_FILTER_KEYWORDS:
        found = keyword(call, name)
        if found is not None:
            return found.value
    method = last_name(call.func)
    position = _LDAP_FILTER_POSITIONS.get(method or "")
    if position is None:
        return None
    if (
        method == "search"
        and len(call.args) > 2
        and "scope" in (last_name(call.args[1]) or "").lower()
    ):
        # python-ldap's search(base, ldap.SCOPE_SUBTREE, filterstr), or with the scope in a name
        # (graphite-web's login: `scope = ldap.SCOPE_SUBTREE`)
        position = 2
    return call.args[position] if len(call.args) > position else None


def _filter_texts(argument: ast.expr, function: ast.AST) -> list[ast.expr]:
    """The expressions that built the filter: the argument, or what was assigned to its name."""
    argument = _unwrapped(argument)
    parts = assigned_values(function, argument.id) if isinstance(argument, ast.Name) else [argument]
    return [part for part in parts if _builds_text(part) or _is_replace(part)]


def _is_replace(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "replace"


def _interpolated_values(built: ast.expr) -> list[ast.expr]:
    """The values a text-building expression puts into its text (not the template)."""
    if isinstance(built, ast.JoinedStr):
        return [value.value for value in built.values if isinstance(value, ast.FormattedValue)]
    if isinstance(built, ast.BinOp) and isinstance(built.op, ast.Mod):
        right = built.right
        if isinstance(right, ast.Tuple):
            return list(right.elts)
        if isinstance(right, ast.Dict):
            return list(right.values)
        return [right]
    if isinstance(built, ast.BinOp) and isinstance(built.op, ast.Add):
        return [*_interpolated_values_of_sum(built.left), *_interpolated_values_of_sum(built.right)]
    if isinstance(built, ast.Call) and _is_replace(built):
        return built.args[1:2]
    if isinstance(built, ast.Call):  # "...".format(...)
        return [*built.args, *(item.value for item in built.keywords)]
    return []


def _interpolated_values_of_sum(side: ast.expr) -> list[ast.expr]:
    if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Add):
        return _interpolated_values(side)
    return [] if isinstance(side, ast.Constant) else [side]


def _unescaped_input(value: ast.expr, parameters: set[str], function: ast.AST) -> str | None:
    """The parameter or request field a value carries unescaped, if it carries one; a local
    name is followed once to what was assigned to it."""
    value = _unwrapped(value)
    if isinstance(value, ast.Call) and last_name(value.func) in _LDAP_ESCAPES:
        return None
    if isinstance(value, ast.Name):
        if value.id in parameters:
            return value.id
        assigned = assigned_values(function, value.id)
        if any(_request_field(item) for item in assigned) and not any(
            isinstance(item, ast.Call) and last_name(item.func) in _LDAP_ESCAPES
            for item in assigned
        ):
            return value.id
        return None
    return _request_field(value)


def _request_field(value: ast.expr) -> str | None:
    """`self.data.username`, `request.form["user"]`: a value read from what a request carried."""
    node = value.value if isinstance(value, ast.Subscript) else value
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or not parts:
        return None
    parts.insert(0, node.id)
    return ".".join(parts) if set(parts[:-1]) & _REQUEST_PARTS else None


_JWT_SIGNERS = frozenset({"jwt.encode", "jose.jwt.encode", "jwt.JWT.encode"})


_TRUSTING_POLICIES = frozenset({"paramiko.AutoAddPolicy", "paramiko.WarningPolicy"})


@detector(
    "ssh-unknown-host-trusted", "crypto", nodes=(ast.Call,), callees={"set_missing_host_key_policy"}
)
def ssh_unknown_host_trusted(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())`: the first host to
    answer is trusted, so a man in the middle gets the credentials. ruff's S507 reports it on a
    client it can trace to `paramiko.SSHClient()`, not one held on an attribute (openwisp's
    connector), which is where this detector looks."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if receiver is None or isinstance(receiver, ast.Name) or len(node.args) != 1:
        return  # a plain name is S507's
    policy = node.args[0]
    made = policy.func if isinstance(policy, ast.Call) else policy
    if context.qualified_name(made) in _TRUSTING_POLICIES:
        yield Hit(
            node,
            "an unknown SSH host key is accepted: a man in the middle gets the session and its "
            "credentials; load known hosts (`load_system_host_keys()`) and use RejectPolicy",
        )


# The standard library's TLS mail and file-transfer clients: each falls back to an unverified
# context (ssl._create_stdlib_context: CERT_NONE, no hostname check) when none is given, unlike
# http.client and urllib since PEP 476. Value: the keyword and the position that carry one.
UNVERIFIED_BY_DEFAULT = {
    "smtplib.SMTP_SSL": ("context", 7),
    "imaplib.IMAP4_SSL": ("ssl_context", 4),
    "poplib.POP3_SSL": ("context", 5),
    "ftplib.FTP_TLS": ("context", 6),
}
_STARTTLS_MODULES = frozenset({"smtplib", "imaplib", "poplib"})
_STARTTLS_METHODS = frozenset({"starttls", "stls"})  # poplib's is stls()


@detector(
    "tls-unverified-by-default",
    "crypto",
    nodes=(ast.Call, ast.IfExp),
    callees={*UNVERIFIED_BY_DEFAULT, *_STARTTLS_METHODS},
)
def tls_unverified_by_default(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`smtplib.SMTP_SSL(host)`, `smtp.starttls()` or `pop.stls()` with no SSL context: it is
    encrypted, but any certificate is accepted, so a man in the middle reads the login that
    follows (modoboa's IMAP and SMTP authentication backends, CTFd's and privacyidea's mail,
    django-helpdesk's POP3 mailboxes). The class may be picked first (`SMTP_SSL if ssl else
    SMTP`, FlexGet's notifier)."""
    if isinstance(node, ast.IfExp):
        secure = [name for name in picked_names(node, context) if name in UNVERIFIED_BY_DEFAULT]
        for call, _ in calls_of_picked(node, context) if secure else ():
            yield from _unverified(call, context, secure[0])
        return
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for calls and conditionals
    yield from _unverified(node, context, context.call_name(node))


def _unverified(node: ast.Call, context: ModuleContext, name: str | None) -> Iterator[Hit]:
    if has_kwargs_splat(node) or keyword(node, "context") or keyword(node, "ssl_context"):
        return
    if name in UNVERIFIED_BY_DEFAULT:
        if len(node.args) > UNVERIFIED_BY_DEFAULT[name][1]:
            return
        shown = f"{name}()"
    elif (
        isinstance(node.func, ast.Attribute)
        and node.func.attr in _STARTTLS_METHODS
        and not node.args
        and context.imports_any(_STARTTLS_MODULES)
    ):
        shown = f"{node.func.attr}()"
    else:
        return
    yield Hit(
        node,
        f"`{shown}` without an SSL context does not verify the server's certificate (the "
        "standard library's mail and FTP clients default to an unverified one): a man in the "
        "middle reads the login; pass `ssl.create_default_context()`",
    )


# aiohttp's request methods and connectors, which take `ssl=False` (`verify_ssl=False` before 3.x)
_AIOHTTP_TLS_CALLS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "ws_connect",
     "TCPConnector"}
)  # fmt: skip


@detector("aiohttp-tls-unverified", "crypto", nodes=(ast.Call,), callees=_AIOHTTP_TLS_CALLS)
def aiohttp_tls_unverified(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """aiohttp with `ssl=False` (or the older `verify_ssl=False`): any certificate is accepted,
    so whoever sits on the path reads the bearer tokens and secrets the call carries
    (music-assistant's shared connector and its Spotify, Deezer and Apple Music calls). ruff's
    S501 reads only requests' and httpx's `verify=`. A plain http URL has nothing to verify."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not context.imports_any(frozenset({"aiohttp"})):
        return
    off = next(
        (
            argument.arg
            for argument in node.keywords
            if argument.arg in {"ssl", "verify_ssl"}
            and isinstance(argument.value, ast.Constant)
            and argument.value.value is False
        ),
        None,
    )
    if off is None or _plain_http(node, context.enclosing_function()):
        return
    yield Hit(
        node,
        f"`{off}=False` turns certificate checks off: a man in the middle reads and changes "
        "what the call carries (tokens, passwords); trust the server's CA with "
        "`ssl=ssl.create_default_context(cafile=...)` instead",
    )


def plain_http_lines(tree: ast.Module) -> tuple[int, ...]:
    """Lines of calls with `verify=False` whose URL is written as plain http (CAPEv2's
    `requests.get(f"http://{host}/fog/status", verify=False)`): there is no certificate to
    check, so ruff's S501 says nothing about them."""
    return tuple(
        sorted(
            {
                node.lineno
                for node in walk(tree)
                if isinstance(node, ast.Call)
                and (verify := keyword(node, "verify")) is not None
                and isinstance(verify.value, ast.Constant)
                and verify.value.value is False
                and _plain_http(node)
            }
        )
    )


def _plain_http(call: ast.Call, function: ast.AST | None = None) -> bool:
    """The call's URL is written as plain http or ws, in place or, given the function, in a
    local name every binding of which is (music-assistant's fanart.tv client:
    `url = f"http://webservice.fanart.tv/v3/{endpoint}"`)."""
    url = call.args[0] if call.args else getattr(keyword(call, "url"), "value", None)
    if isinstance(url, ast.Name) and function is not None:
        values = assigned_values(function, url.id)
    else:
        values = [] if url is None else [url]
    return bool(values) and all(
        string_parts(value).startswith(("http://", "ws://")) for value in values
    )


@detector("jwt-literal-key", "secrets", nodes=(ast.Call,), callees={"encode"})
def jwt_literal_key(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`jwt.encode(claims, "s3cret")` or a module constant: every copy of the code can mint valid
    tokens for any user, and rotating the key means a deploy."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if context.call_name(node) not in _JWT_SIGNERS:
        return
    key = node.args[1] if len(node.args) > 1 else getattr(keyword(node, "key"), "value", None)
    if key is not None and _literal_text(key, context) is not None:
        yield Hit(
            key,
            "the JWT signing key is written in the source: load it from the environment or a "
            "secret manager, and rotate this one",
        )


def _literal_text(node: ast.AST, context: ModuleContext) -> str | None:
    """A non-empty str literal, directly or through a module-level constant assigned once."""
    if isinstance(node, ast.Name):
        node = _module_constant(node.id, context) or node
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None


def _module_constant(name: str, context: ModuleContext) -> ast.AST | None:
    values = [
        statement.value
        for statement in context.tree.body
        if isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    ]
    return values[0] if len(values) == 1 else None


# ---------------------------------------------------------------- access checks

# Functions that decide access by their name: has_perm(), has_permission_for_form(),
# check_object_permissions(), can_edit(), user_can_view(), is_authorized(), has_access(),
# is_allowed(), is_allowed_to_edit(); not is_allowed_type() (rapidpro's upload content types).
_ACCESS_CHECK = re.compile(
    r"perm|authori[sz]|access|^(can|may|user_can)(_|$)|^is_allowed(_to(_|$)|$)"
)
# `can_*`/`may_*` with nothing to decide about is a state check: Django's
# `query.can_filter()` asks whether a queryset is sliced.
_ABILITY = re.compile(r"^(can|may)(_|$)")
_SUBJECT = re.compile(r"user|request|member|account|actor|principal|viewer|session")
# `assert os.access(path, os.R_OK)`: whether this process may read a file (ArchiveBox's).
_FILE_ACCESS = frozenset({"os.access"})


@detector("permission-check-by-assert", "authz", nodes=(ast.Assert,))
def permission_check_by_assert(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`assert has_permission_for_form(user, form)`: `python -O` (PYTHONOPTIMIZE) strips every
    assert, and then anyone passes; when it does run, a refusal is an AssertionError, a 500
    rather than a 403. Only calls named like an access decision count, inside a function (one at
    a module's top level is a self-check of an example): `assert request.user.is_authenticated`
    after a login decorator narrows a type for mypy."""
    assert isinstance(node, ast.Assert)  # noqa: S101 - registered for ast.Assert only
    if context.enclosing_function() is None:
        return
    for inner in walk(node.test):
        if not isinstance(inner, ast.Call):
            continue
        name = last_name(inner.func)
        if context.call_name(inner) in _FILE_ACCESS:
            continue  # a file's mode, not a user's right
        if name is not None and _decides_access(inner, name.lower()):
            yield Hit(
                node,
                f"access is checked with `assert {name}(...)`: `python -O` removes the check and "
                "a refusal is a 500; raise a permission error (a 403) instead",
            )
            return


def _decides_access(call: ast.Call, name: str) -> bool:
    if not _ACCESS_CHECK.search(name):
        return False
    if not _ABILITY.search(name) or call.args or call.keywords:
        return True
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    return receiver is not None and bool(_SUBJECT.search(ast.unparse(receiver).lower()))


# ---------------------------------------------------------------- log format


_SERVICE_FRAMEWORKS = frozenset(
    {"fastapi", "flask", "django", "starlette", "aiohttp", "sanic", "litestar", "tornado",
     "falcon", "celery", "dramatiq", "arq", "rq", "faust", "uvicorn", "gunicorn", "grpc"}
)  # fmt: skip


# A logging config (Django's LOGGING setting, dictConfig) with a JSON formatter in the same
# module: basicConfig there is the fallback for other libraries' loggers (InvenTree's settings
# pick structlog's JSONRenderer from an env flag).
_JSON_FORMATTER = re.compile(r"JSONRenderer|JsonFormatter|JSONFormatter|pythonjsonlogger")
_LOGGING_CONFIG = re.compile(r"^LOGGING\s*=|dictConfig\(", re.MULTILINE)


@detector("text-log-format", "structured-logs", nodes=(ast.Call,), callees={"basicConfig"})
def text_log_format(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`logging.basicConfig(format="%(asctime)s %(message)s")`: every line is free text, which log
    pipelines can only grep, not query by field."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not context.imports_any(_SERVICE_FRAMEWORKS):
        return  # a CLI or script logs for the person at the terminal
    if context.call_name(node) != "logging.basicConfig" or keyword(node, "handlers"):
        return
    if context.text_matches(_LOGGING_CONFIG) and context.text_matches(_JSON_FORMATTER):
        return
    given = keyword(node, "format")
    text = given.value.value if given and isinstance(given.value, ast.Constant) else None
    if isinstance(text, str) and "%(message)s" in text and not text.lstrip().startswith("{"):
        yield Hit(
            node,
            "logs go out as plain text lines: configure a JSON formatter (structlog, "
            "python-json-logger) so every field can be queried",
        )


_HMAC_MAKERS = frozenset({"hmac.new", "hmac.HMAC", "hmac.digest"})
# A value that holds a signature or MAC: `signature`, `expected_sig`, `computed_hmac`, `mac`.
_SIGNATURE_WORDS = frozenset({"signature", "sig", "hmac", "mac", "digest"})


@detector("signature-compared-with-equals", "crypto", nodes=FUNCTIONS)
def signature_compared_with_equals(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`if this_signature != signature:` in a function that computes an HMAC: `==` stops at the
    first differing byte, so the time it takes tells a caller how much of a forged signature is
    right (open-humans' Discourse SSO, mitxonline's Mailgun webhook, a Zoom webhook). Neither
    ruff nor bandit checks it; `hmac.compare_digest` takes the same time whatever matches."""
    assert isinstance(node, FUNCTIONS)  # noqa: S101 - registered for functions only
    if not context.imports_any(frozenset({"hmac"})):
        return
    nodes = list(body_nodes(node))
    calls = (n for n in nodes if isinstance(n, ast.Call))
    if not any(context.call_name(call) in _HMAC_MAKERS for call in calls):
        return
    for compare in nodes:
        if (
            isinstance(compare, ast.Compare)
            and len(compare.ops) == 1
            and isinstance(compare.ops[0], ast.Eq | ast.NotEq)
            and not any(
                isinstance(side, ast.Constant) for side in (compare.left, *compare.comparators)
            )
            and any(_holds_signature(side) for side in (compare.left, *compare.comparators))
        ):
            yield Hit(
                compare,
                "a signature is compared with `==`: the comparison ends at the first differing "
                "byte, so its timing leaks how much of a forged signature is right; compare with "
                "`hmac.compare_digest(expected, received)`",
            )


def _holds_signature(value: ast.expr) -> bool:
    """A name, attribute or item whose last name says it holds a signature, or a digest call."""
    if isinstance(value, ast.Call):
        return isinstance(value.func, ast.Attribute) and value.func.attr in {"digest", "hexdigest"}
    if isinstance(value, ast.Subscript):
        value = value.value
    name = last_name(value)
    return name is not None and not _SIGNATURE_WORDS.isdisjoint(name_parts(name))


# Frappe's calls that read or change a record of the doctype given first, with no permission
# check of their own (frappe.get_list and frappe.client.get check; these do not).
_FRAPPE_RECORD_CALLS = frozenset(
    {"frappe.get_doc", "frappe.get_cached_doc", "frappe.get_value", "frappe.db.get_value",
     "frappe.db.get_values", "frappe.db.set_value", "frappe.delete_doc", "frappe.get_all",
     "frappe.db.get_all", "frappe.db.delete"}
)  # fmt: skip
# A call, or a decorator, that decides access: has_permission, check_permission, only_for,
# frappe.get_list (which applies the user's permissions), an application's own `can_modify_*`,
# `is_channel_member`, `is_admin`, `@agent_only` (lms, raven, helpdesk).
_FRAPPE_ACCESS = re.compile(
    r"perm|only_for|_only\b|get_list|frappe\.client\.|(?:^|\.)can_|(?:^|\.)is_\w*(?:member"
    r"|admin|owner|moderator|manager|agent|allowed)|authoriz",
    re.IGNORECASE,
)


@detector("frappe-doctype-from-caller", "authz", nodes=(ast.FunctionDef,))
def frappe_doctype_from_caller(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A `@frappe.whitelist()` function that reads or changes a record of a doctype its caller
    names (`frappe.db.get_value(doctype, name, fields)`) and checks no permission: any logged-in
    user, or a guest, reads any field of any record, salaries and passwords' hashes included
    (hrms' roster get_values and get_account_and_amount, in the recall notes of round 35).
    Whitelisted methods of a document are left out: Frappe checks the document's permission
    before it runs them."""
    assert isinstance(node, ast.FunctionDef)  # noqa: S101 - registered for FunctionDef only
    parameters = _unchecked_api_parameters(node, context)
    if parameters is None:
        return
    for call in body_nodes(node):
        if not isinstance(call, ast.Call):
            continue
        doctype = _named_doctype(call, parameters, context)
        if doctype is not None:
            yield Hit(
                call,
                f"`{context.call_name(call)}({doctype}, ...)` in a whitelisted function reaches "
                "a record of whatever doctype the caller names, and no permission is checked: "
                f"check `frappe.has_permission({doctype}, ..., throw=True)` first, or fix the "
                "doctype",
            )
            return


def _unchecked_api_parameters(function: ast.FunctionDef, context: ModuleContext) -> set[str] | None:
    """The parameters of a module-level `@frappe.whitelist()` function that decides access
    nowhere, in it or in a module helper it calls; None for any other function."""
    if not context.imports_any(frozenset({"frappe"})):
        return None
    if not isinstance(next(iter(context.ancestors()), None), ast.Module):
        return None  # a document's method (Frappe checks the document first), or a nested one
    decorators = [ast.unparse(decorator) for decorator in function.decorator_list]
    if not any("whitelist" in text for text in decorators):
        return None
    if any(_FRAPPE_ACCESS.search(text) for text in decorators):
        return None
    calls = [inner for inner in body_nodes(function) if isinstance(inner, ast.Call)]
    if _decides_frappe_access(function, context) or any(
        _decides_frappe_access(helper, context) for helper in _module_helpers(calls, context)
    ):
        return None
    return {arg.arg for arg, _ in named_parameters(function.args)}


def _decides_frappe_access(function: ast.AST, context: ModuleContext) -> bool:
    """A permission call (`doc.check_permission("write")`), a PermissionError raised or an owner
    comparison in it."""
    return any(
        (isinstance(inner, ast.Call) and _FRAPPE_ACCESS.search(context.call_name(inner) or ""))
        or (isinstance(inner, ast.Attribute | ast.Name) and last_name(inner) == "PermissionError")
        or _compares_session_user(inner)
        for inner in body_nodes(function)
    )


def _module_helpers(calls: list[ast.Call], context: ModuleContext) -> list[ast.FunctionDef]:
    """The module's own functions among `calls`' callees: a shared helper may check access for
    every API function that calls it (crm's enrichment `_enqueue_run`)."""
    called = {call.func.id for call in calls if isinstance(call.func, ast.Name)}
    return [
        statement
        for statement in context.tree.body
        if isinstance(statement, ast.FunctionDef) and statement.name in called
    ]


def _compares_session_user(node: ast.AST) -> bool:
    """`... == frappe.session.user`: the function decides access by the record's owner."""
    return isinstance(node, ast.Compare) and any(
        _own_user(side) for side in (node.left, *node.comparators)
    )


def _named_doctype(call: ast.Call, parameters: set[str], context: ModuleContext) -> str | None:
    """The parameter a record call takes its doctype from, if it does. `frappe.get_doc(doc)`
    with one argument builds a document from a dict: it reads none."""
    name = context.call_name(call)
    if name not in _FRAPPE_RECORD_CALLS or not call.args:
        return None
    if name in {"frappe.get_doc", "frappe.get_cached_doc"} and len(call.args) < 2:
        return None
    doctype = call.args[0]
    return doctype.id if isinstance(doctype, ast.Name) and doctype.id in parameters else None


# Frappe writes that skip the user's permissions: frappe.db.set_value, frappe.db.delete and a
# document's db_set write to the table directly; delete_doc, save, insert, submit, cancel and
# delete check the user's permission unless told ignore_permissions=True.
_FRAPPE_RAW_WRITES = frozenset({"frappe.db.set_value", "frappe.db.delete"})
_FRAPPE_CHECKED_WRITES = frozenset({"save", "insert", "submit", "cancel", "delete"})


@detector("frappe-write-by-caller", "authz", nodes=(ast.FunctionDef,))
def frappe_write_by_caller(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A `@frappe.whitelist()` function that changes a record its caller picks by name, with a
    write that skips Frappe's own permission check (`frappe.db.set_value`, `frappe.db.delete`,
    `doc.db_set`, `ignore_permissions=True`), and decides access nowhere: any logged-in user
    disables any account (gameplan's remove_user), expires anyone's leave (hrms'
    expire_allocation), closes any loan. Guest endpoints (sign-up, OTP) are left out. A preview
    code: 8 of 15 worth fixing on ten Frappe applications, the others harmless writes."""
    assert isinstance(node, ast.FunctionDef)  # noqa: S101 - registered for FunctionDef only
    parameters = _unchecked_api_parameters(node, context)
    if parameters is None or any(
        "allow_guest" in ast.unparse(decorator) for decorator in node.decorator_list
    ):
        return
    parameters |= _derived_names(node, parameters)
    loaded = _documents_loaded_by_name(node, parameters, context)
    for call in body_nodes(node):
        if isinstance(call, ast.Call) and _unchecked_write(call, parameters, loaded, context):
            yield Hit(
                call,
                "a whitelisted function changes a record the caller picks, with no permission "
                "check: any logged-in user can make this change to anyone's record; check "
                "`frappe.has_permission(..., 'write', name, throw=True)` (or the owner) first",
            )
            return


def _derived_names(function: ast.FunctionDef, parameters: set[str]) -> set[str]:
    """Local names bound from the parameters, through assignments and loops (wiki's
    `for item in json.loads(sidebar_items)`): what the caller sent, under another name."""
    derived = set(parameters)
    bindings = [
        (statement.targets, statement.value)
        if isinstance(statement, ast.Assign)
        else ([statement.target], statement.iter)
        for statement in body_nodes(function)
        if isinstance(statement, ast.Assign | ast.For)
    ]
    # a name ever bound to the session's user holds the caller's own rows (helpdesk's filters)
    own = {
        inner.id
        for targets, value in bindings
        if _own_user(value)
        for target in targets
        for inner in walk(target)
        if isinstance(inner, ast.Name)
    }
    bindings = [
        (targets, value)
        for targets, value in bindings
        if not any(isinstance(inner, ast.Name) and inner.id in own for inner in walk(value))
    ]
    changed = True
    while changed:
        changed = False
        for targets, value in bindings:
            if not _mentions(value, derived):
                continue
            for name in (inner for target in targets for inner in walk(target)):
                if isinstance(name, ast.Name) and name.id not in derived:
                    derived.add(name.id)
                    changed = True
    return derived - parameters


def _documents_loaded_by_name(
    function: ast.FunctionDef, parameters: set[str], context: ModuleContext
) -> set[str]:
    """Local names bound to `frappe.get_doc(doctype, <a parameter>)`."""
    loaded: set[str] = set()
    for statement in body_nodes(function):
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
        ):
            continue
        call = statement.value
        if (
            context.call_name(call) in {"frappe.get_doc", "frappe.get_cached_doc"}
            and len(call.args) > 1
            and _mentions(call.args[1], parameters)
        ):
            loaded.add(statement.targets[0].id)
    return loaded


def _unchecked_write(
    call: ast.Call, parameters: set[str], loaded: set[str], context: ModuleContext
) -> bool:
    name = context.call_name(call)
    if name in _FRAPPE_RAW_WRITES or (name == "frappe.delete_doc" and _ignores_permissions(call)):
        target = call.args[1] if len(call.args) > 1 else None
        return target is not None and _mentions(target, parameters) and not _own_user(target)
    method = call.func.attr if isinstance(call.func, ast.Attribute) else None
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not (isinstance(receiver, ast.Name) and receiver.id in loaded):
        return False
    return method == "db_set" or (method in _FRAPPE_CHECKED_WRITES and _ignores_permissions(call))


def _mentions(node: ast.AST, parameters: set[str]) -> bool:
    return any(isinstance(inner, ast.Name) and inner.id in parameters for inner in walk(node))


def _own_user(node: ast.AST) -> bool:
    """A filter that names the session's user: the caller changes their own rows."""
    return "session.user" in ast.unparse(node)


def _ignores_permissions(call: ast.Call) -> bool:
    found = keyword(call, "ignore_permissions")
    return found is not None and not (
        isinstance(found.value, ast.Constant) and not found.value.value
    )
