"""Scope facts the detector families share: what object a name holds, and a scope's own nodes.

`factory_of` answers "which call created the object behind `s` / `self.client`?" by looking up the
binding in the enclosing functions, then the module; `self.x` is looked up among the assignments
in the class's methods and class body. One pass per module builds the table, cached per tree.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bepro.review.context import ModuleContext, is_none, statements

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)

HTTP_CLIENT_FACTORIES = frozenset(
    {"httpx.Client", "httpx.AsyncClient", "requests.Session", "requests.session",
     "requests.sessions.Session", "aiohttp.ClientSession"}
)  # fmt: skip
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
# Mail and file-transfer clients: without `timeout=` they wait on the socket default (none).
# The positional index of their timeout; None where it moved between Python versions.
SOCKET_TIMEOUT_CLIENTS: dict[str, int | None] = {
    "smtplib.SMTP": 3, "smtplib.SMTP_SSL": None, "imaplib.IMAP4": 2, "imaplib.IMAP4_SSL": None,
    "poplib.POP3": 2, "poplib.POP3_SSL": None, "ftplib.FTP": 4, "ftplib.FTP_TLS": None,
    # imap_tools' mailboxes wrap imaplib: MailBox(host, port, timeout, ...)
    **{f"imap_tools{module}.{name}": 2 for module in ("", ".mailbox")
       for name in ("MailBox", "MailBoxUnencrypted", "MailBoxTls", "MailBoxStartTls")},
}  # fmt: skip
# redis-py clients, sync and asyncio: constructors, and the factories that take a URL.
REDIS_CLIENTS = frozenset(
    {"redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.asyncio.Redis",
     "redis.asyncio.StrictRedis"}
)  # fmt: skip
REDIS_URL_FACTORIES = frozenset(
    {"redis.from_url", "redis.Redis.from_url", "redis.asyncio.from_url"}
)
AWS_CLIENT_FACTORIES = frozenset({"boto3.client", "boto3.resource"})
# boto3 calls the service on every method but these, which only build local objects.
AWS_LOCAL_METHODS = frozenset(
    {"get_paginator", "get_waiter", "can_paginate", "close", "generate_presigned_url",
     "generate_presigned_post", "Bucket", "Object", "Table", "Queue", "Topic"}
)  # fmt: skip


_NESTED_SCOPE_TYPES = frozenset(NESTED_SCOPES)


def own_nodes(
    roots: Iterable[ast.AST], skipped: frozenset[type[ast.AST]] = frozenset()
) -> Iterator[ast.AST]:
    """The roots and everything under them in source order, not entering nested defs or lambdas
    (nor nodes of the `skipped` types: leaves a caller has no use for).

    Detectors walk function bodies with this, so it reads each node's fields directly (the
    order `ast.iter_child_nodes` gives, at less than half its cost)."""
    todo = list(roots)
    todo.reverse()
    pop, push = todo.pop, todo.append
    nested, node_class = _NESTED_SCOPE_TYPES, ast.AST
    while todo:
        node = pop()
        yield node
        if type(node) in nested:
            continue
        first_child = len(todo)
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_class) and type(item) not in skipped:
                        push(item)
            elif isinstance(value, node_class) and type(value) not in skipped:
                push(value)
        if len(todo) - first_child > 1:
            todo[first_child:] = reversed(todo[first_child:])


def walk(root: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`: the root and every node under it, breadth first, in the same order, reading
    fields directly (1.7x faster; detectors walk every route handler and loop body)."""
    todo = deque([root])
    pop, push, node_class = todo.popleft, todo.append, ast.AST
    while todo:
        node = pop()
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_class):
                        push(item)
            elif isinstance(value, node_class):
                push(value)
        yield node


def body_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """A module's or function's own nodes (decorators and defaults belong to the outer scope)."""
    yield from own_nodes(getattr(scope, "body", []))


def name_parts(identifier: str) -> list[str]:
    """`resetToken_v2` -> ['reset', 'token', 'v2']: the words of snake_case and camelCase names."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier)
    return [part for part in spaced.lower().split("_") if part]


def last_name(node: ast.AST) -> str | None:
    """`self.db.session` -> 'session', `cursor` -> 'cursor'; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def method_call(node: ast.AST) -> tuple[ast.expr, str] | None:
    """(receiver, method) for a call `receiver.method(...)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.value, node.func.attr
    return None


@dataclass
class _Bindings:
    # scope node -> name -> qualified name of the call that created it (None: something else)
    names: dict[ast.AST, dict[str, str | None]] = field(default_factory=dict)
    # class -> attribute set through `self.attr = ...` or in the class body -> factory
    attributes: dict[ast.ClassDef, dict[str, str | None]] = field(default_factory=dict)


def factory_of(
    context: ModuleContext,
    expr: ast.AST,
    ancestors: Sequence[ast.AST],
    wanted: frozenset[str] | None = None,
) -> str | None:
    """The qualified name of the call that created what `expr` (a name, `self.attr`, or a call
    made in place: `requests.Session().send(...)`) holds.

    With `wanted` (the factories the caller cares about), a module that imports none of their
    packages answers None at once: a qualified name can only come from the module's imports, so
    the answer is the same, without building the module's binding table."""
    if wanted is not None and not context.imports_any(_roots(wanted)):
        return None
    bindings = context.fact(_collect)
    if isinstance(expr, ast.Name):
        for scope in reversed(ancestors):
            if isinstance(scope, FUNCTIONS) and expr.id in bindings.names.get(scope, {}):
                return _through_own_method(context, bindings.names[scope][expr.id], ancestors)
        return bindings.names.get(context.tree, {}).get(expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        owner = _method_owner(ancestors, expr.value.id)
        return bindings.attributes.get(owner, {}).get(expr.attr) if owner else None
    if isinstance(expr, ast.Call):
        returned = (
            _returned_factory(context, expr.func.id) if isinstance(expr.func, ast.Name) else None
        )
        return returned or context.call_name(expr)
    return None


def _returned_factory(context: ModuleContext, function_name: str) -> str | None:
    """What a function of the module hands back, when each of its returns is the same kind of
    object: liberapay's `_init_session()` sets a header on the module's requests.Session and
    returns it, and every PayPal call goes `_init_session().post(...)`."""
    function = next(
        (
            statement
            for statement in context.tree.body
            if isinstance(statement, FUNCTIONS) and statement.name == function_name
        ),
        None,
    )
    return None if function is None else _factory_returned_by(context, [context.tree, function])


def _through_own_method(
    context: ModuleContext, made: str | None, ancestors: Sequence[ast.AST]
) -> str | None:
    """What `self.<method>(...)` hands back, for a name bound to it, when every return of the
    class's method is a call of one factory (baserow's `oauth = self.get_oauth_session(...)`,
    two returns of `OAuth2Session(...)`); else the call's own name. Only calls are followed, so
    a method that returns what it calls itself cannot recurse."""
    receiver, _, method_name = (made or "").partition(".")
    owner = _method_owner(ancestors, receiver) if method_name else None
    if owner is None:
        return made
    returned = {
        context.call_name(node.value) if isinstance(node.value, ast.Call) else None
        for method in owner.body
        if isinstance(method, FUNCTIONS) and method.name == method_name
        for node in body_nodes(method)
        if isinstance(node, ast.Return)
    }
    factory = returned.pop() if len(returned) == 1 else None
    return factory or made


def _factory_returned_by(context: ModuleContext, scope: list[ast.AST]) -> str | None:
    """The one factory every return of the innermost function of `scope` hands back."""
    function = scope[-1]
    made = {
        context.call_name(value)
        if isinstance(value, ast.Call)
        else factory_of(context, value, scope)
        for node in body_nodes(function)
        if isinstance(node, ast.Return) and (value := node.value) is not None
    }
    return made.pop() if len(made) == 1 else None


@functools.lru_cache(maxsize=64)
def _roots(names: frozenset[str]) -> frozenset[str]:
    return frozenset(name.split(".")[0] for name in names)


def _method_owner(ancestors: Sequence[ast.AST], receiver: str) -> ast.ClassDef | None:
    """The class whose method binds `receiver` as its first parameter (self/cls)."""
    for index in range(len(ancestors) - 1, 0, -1):
        function, parent = ancestors[index], ancestors[index - 1]
        if isinstance(function, FUNCTIONS) and isinstance(parent, ast.ClassDef):
            params = function.args.posonlyargs + function.args.args
            return parent if params and params[0].arg == receiver else None
    return None


def _collect(context: ModuleContext) -> _Bindings:
    bindings = _Bindings()
    _collect_scope(context, context.tree, None, bindings)
    return bindings


def _collect_scope(
    context: ModuleContext, scope: ast.AST, owner: ast.ClassDef | None, bindings: _Bindings
) -> None:
    """Record the bindings of a module or function, then those of the scopes nested in it."""
    table = bindings.names.setdefault(scope, {})
    receiver = _self_name(scope) if owner is not None else None
    attributes = bindings.attributes.get(owner) if owner is not None else None
    if isinstance(scope, FUNCTIONS):
        _record_parameters(context, scope.args, table)
    for node in own_nodes(getattr(scope, "body", []), _NOT_BINDERS):
        if isinstance(node, ast.ClassDef):
            _record(table, node.name, None)
            _collect_class(context, node, bindings)
        elif isinstance(node, FUNCTIONS):
            _record(table, node.name, None)
            _collect_scope(context, node, None, bindings)
        elif type(node) in _BINDERS:
            _record_binding(context, node, table, receiver, attributes)


def _record_parameters(
    context: ModuleContext, arguments: ast.arguments, table: dict[str, str | None]
) -> None:
    """A function's parameters, then those of lambdas in its defaults and annotations (which
    bind nothing the function's body sees, but have always been recorded, as plain names)."""
    direct = [*arguments.posonlyargs, *arguments.args, arguments.vararg]
    direct += [*arguments.kwonlyargs, arguments.kwarg]
    params = [param for param in direct if param is not None]
    for param in params:
        _record(table, param.arg, _annotated_type(context, param.annotation))
    values = [*arguments.kw_defaults, *arguments.defaults, *(p.annotation for p in params)]
    for node in own_nodes([value for value in values if value is not None], _NOT_BINDERS):
        if isinstance(node, ast.Lambda):
            for inner in walk(node):
                if isinstance(inner, ast.arg):
                    _record(table, inner.arg, None)


def _collect_class(context: ModuleContext, node: ast.ClassDef, bindings: _Bindings) -> None:
    attributes = bindings.attributes.setdefault(node, {})
    for statement in node.body:
        if isinstance(statement, FUNCTIONS):
            _collect_scope(context, statement, node, bindings)
        elif isinstance(statement, ast.ClassDef):
            _collect_class(context, statement, bindings)
        else:
            for inner in own_nodes([statement], _NOT_BINDERS):
                if type(inner) in _BINDERS:
                    _record_binding(context, inner, attributes, None, None)


def _annotated_type(context: ModuleContext, annotation: ast.expr | None) -> str | None:
    """`httpx.AsyncClient` for a parameter annotated `httpx.AsyncClient` (or `... | None`): an
    imported class stands for what made the object, as a constructor call would."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [side for side in (annotation.left, annotation.right) if not is_none(side)]
        annotation = sides[0] if len(sides) == 1 else None
    if not isinstance(annotation, ast.Name | ast.Attribute):
        return None
    name = context.qualified_name(annotation)
    return name if name and "." in name else None


def _self_name(scope: ast.AST) -> str | None:
    if not isinstance(scope, FUNCTIONS):
        return None
    params = scope.args.posonlyargs + scope.args.args
    return params[0].arg if params else None


def _record_binding(
    context: ModuleContext,
    node: ast.AST,
    table: dict[str, str | None],
    receiver: str | None,
    attributes: dict[str, str | None] | None,
) -> None:
    for target, value in _assignments(node):
        factory = _call_name(context, value)
        if isinstance(target, ast.Name):
            _record(table, target.id, factory)
        elif (
            attributes is not None
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == receiver
        ):
            _record(attributes, target.attr, factory)
        elif isinstance(target, ast.Tuple | ast.List | ast.Starred):
            for inner in walk(target):
                if isinstance(inner, ast.Name):
                    _record(table, inner.id, None)


# Half of a tree's nodes: names, constants and their contexts, none of which binds anything or
# holds anything that does (the binding pass does not visit them).
_NOT_BINDERS = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del})
# The statements and clauses that bind names (what `_assignments` reads), checked before the call.
_BINDERS = frozenset(
    {ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor,
     ast.AugAssign, ast.comprehension, ast.ExceptHandler, ast.Import, ast.ImportFrom}
)  # fmt: skip


def _assignments(node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """(target, value) for every binding a statement makes; value None when it is not one call."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield target, node.value
    elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
        yield node.target, node.value
    elif isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if item.optional_vars is not None:
                yield item.optional_vars, item.context_expr
    elif isinstance(node, ast.For | ast.AsyncFor | ast.AugAssign | ast.comprehension):
        yield node.target, None
    elif isinstance(node, ast.ExceptHandler) and node.name:
        yield ast.Name(id=node.name), None
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            yield ast.Name(id=(alias.asname or alias.name).split(".")[0]), None


def _call_name(context: ModuleContext, value: ast.AST | None) -> str | None:
    """`conn = await asyncpg.connect()` binds what `asyncpg.connect` creates, like a plain call."""
    if isinstance(value, ast.Await):
        value = value.value
    return context.call_name(value) if isinstance(value, ast.Call) else None


def _record(table: dict[str, str | None], name: str, factory: str | None) -> None:
    """A factory binding wins over plain ones (`x = None` then `x = Session()`); two factories tie."""
    if name not in table or table[name] is None:
        table[name] = factory
    elif factory is not None and table[name] != factory:
        table[name] = None


def assigned_values(scope: ast.AST, name: str) -> list[ast.expr]:
    """Every value bound to a plain name anywhere in a scope (`=`, annotated `=`, `+=`): all
    are statements, so the walk does not descend into expressions (most of a tree)."""
    values: list[ast.expr] = []
    for statement in statements(getattr(scope, "body", [])):
        if isinstance(statement, ast.Assign):
            targets: list[ast.expr] = statement.targets
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign) and statement.value is not None:
            targets = [statement.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            assert statement.value is not None  # noqa: S101 - checked above for AnnAssign
            values.append(statement.value)
    return values


def named_parameters(arguments: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    """Each named parameter with its default (None when it has none)."""
    positional = arguments.posonlyargs + arguments.args
    padding: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    pairs = list(zip(positional, [*padding, *arguments.defaults], strict=True))
    return [*pairs, *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)]


# Gates that let only staff or superusers in: a wait that stalls behind one of them costs one
# operator's request on a diagnostics page, not user traffic (judged not worth a timeout on the
# admin pages of paperless-ngx, bookwyrm and recipes).
_ADMIN_FLAGS = frozenset({"is_superuser", "is_staff"})
_ADMIN_DECORATORS = frozenset({"staff_member_required", "superuser_required"})
_ADMIN_CLASS_NAMES = re.compile(r"(?:IsAdminUser|(?:Staff|Superuser|SuperUser)RequiredMixin)$")
_GATE_STATEMENTS = 3  # a gate is among the first statements of a view
_DEPENDENCY_CALLS = frozenset({"Depends", "Security"})
_ADMIN_WORD = re.compile(r"admin|superuser|staff", re.IGNORECASE)


def admin_only(context: ModuleContext) -> bool:
    """Whether the node being visited serves only staff: an `admin` module or folder, a view that
    turns away anyone but staff or superusers first thing, or a class with an admin-only
    permission class or mixin."""
    parts = context.path.replace("\\", "/").split("/")
    if "admin" in parts[:-1] or parts[-1] == "admin.py":
        return True
    for node in context.ancestors():
        if isinstance(node, FUNCTIONS) and admin_route(node):
            return True
        if isinstance(node, ast.ClassDef) and _admin_class(node):
            return True
    return False


def admin_route(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A view that only staff reach: an admin decorator, a gate on an admin flag first thing, or
    a FastAPI dependency that names an admin role (frigate's `dependencies=[Depends(
    require_role(["admin"]))]`, `user = Depends(current_superuser)`)."""
    return _admin_decorated(function) or _gates_on_admin(function) or _admin_dependency(function)


def _admin_dependency(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    defaults = [*function.args.defaults, *function.args.kw_defaults]
    return any(
        isinstance(node, ast.Call)
        and last_name(node.func) in _DEPENDENCY_CALLS
        and _names_only_admins(node)
        for source in [*function.decorator_list, *(d for d in defaults if d is not None)]
        for node in walk(source)
    )


def _names_only_admins(dependency: ast.Call) -> bool:
    """The dependency names an admin role, and no list of roles in it names another."""
    roles = [
        _spelled(item)
        for node in walk(dependency)
        if isinstance(node, ast.List | ast.Tuple | ast.Set)
        for item in node.elts
    ]
    return any(_ADMIN_WORD.search(_spelled(part)) for part in walk(dependency)) and all(
        _ADMIN_WORD.search(role) for role in roles if role
    )


def _spelled(node: ast.AST) -> str:
    """A name, attribute or string as written (the empty string for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _mentions_admin_flag(node: ast.AST) -> bool:
    return any(
        isinstance(child, ast.Attribute) and child.attr in _ADMIN_FLAGS for child in walk(node)
    )


def _admin_decorated(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if last_name(target) in _ADMIN_DECORATORS:
            return True
        if last_name(target) == "user_passes_test" and _mentions_admin_flag(decorator):
            return True
    return False


def _gates_on_admin(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`if not request.user.is_superuser: return redirect(...)` (or raise) opens the view."""
    return any(
        isinstance(statement, ast.If)
        and _mentions_admin_flag(statement.test)
        and any(isinstance(inner, ast.Return | ast.Raise) for inner in statement.body)
        for statement in function.body[:_GATE_STATEMENTS]
    )


def _admin_class(cls: ast.ClassDef) -> bool:
    names = [last_name(base) or "" for base in cls.bases]
    for statement in cls.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "permission_classes"
            for target in statement.targets
        ):
            names += [last_name(node) or "" for node in walk(statement.value)]
    return any(_ADMIN_CLASS_NAMES.search(name) for name in names)


# ---------------------------------------------------------------- a class picked, called later

Function = ast.FunctionDef | ast.AsyncFunctionDef


def picked_names(picked: ast.IfExp, context: ModuleContext) -> tuple[str | None, str | None]:
    """The qualified names `A if cond else B` chooses between (`smtplib.SMTP_SSL`, ...)."""
    return context.qualified_name(picked.body), context.qualified_name(picked.orelse)


def calls_of_picked(
    picked: ast.IfExp, context: ModuleContext
) -> Iterator[tuple[ast.Call, Function]]:
    """The calls of what `picked` chooses (`smtplib.SMTP_SSL if ssl else smtplib.SMTP`), through
    the local name or `self` attribute it is assigned to, or the property that returns it (the
    node being visited is `picked`); each with the function it is in."""
    parent = context.stack[-1] if context.stack else None
    scope: ast.AST | None
    uses: Callable[[ast.AST], bool]
    if isinstance(parent, ast.Assign) and parent.value is picked and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Name):
            scope = context.enclosing_function()
            uses = functools.partial(is_name, name=target.id)
        elif isinstance(target, ast.Attribute) and is_self_attribute(target):
            scope = enclosing_class(context)
            uses = functools.partial(is_self_attribute, attr=target.attr)
        else:
            return
    elif isinstance(parent, ast.Return) and (getter := _property_returning(context)):
        scope, uses = enclosing_class(context), functools.partial(is_self_attribute, attr=getter)
    else:
        return
    functions = [n for n in walk(scope) if isinstance(n, FUNCTIONS)] if scope is not None else []
    for function in functions:
        for node in body_nodes(function):
            if isinstance(node, ast.Call) and uses(node.func):
                yield node, function


def is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def is_self_attribute(node: ast.AST, attr: str | None = None) -> bool:
    """`self.<attr>` (any attribute when attr is None)."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and (attr is None or node.attr == attr)
    )


def enclosing_class(context: ModuleContext) -> ast.ClassDef | None:
    """The class the node being visited is in, if any."""
    return next((n for n in reversed(context.stack) if isinstance(n, ast.ClassDef)), None)


def _property_returning(context: ModuleContext) -> str | None:
    """The name of the `@property` the node being visited is returned from, if any."""
    function = context.enclosing_function()
    if function is None:
        return None
    decorated = any(last_name(d) == "property" for d in function.decorator_list)
    return function.name if decorated else None
