"""Secret codemods: a credential written in the source is read from the environment instead.
Both are unsafe: the service now needs the variable set where it runs (and fails at startup, with
a KeyError naming it, where it is missing), which a reviewer must see before it ships.

    secret-from-env     `API_KEY = "sk_live_..."` at module level -> `API_KEY = os.environ["API_KEY"]`
                        (the variable named after the constant); a JWT key given as a literal ->
                        `os.environ["JWT_SECRET"]`, through its module constant when it has one
    required-env        `os.environ.get("JWT_SECRET", "dev-secret")` / `os.getenv(...)` with a secret
                        fallback -> `os.environ["JWT_SECRET"]`: a missing variable stops the start;
                        django-environ's `env("SECRET_KEY", default="...")` (or `env.str`) and
                        decouple's `config(...)` lose the default, and raise where it is missing
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from bepro.fix import cst_tools
from bepro.review.finding import Finding

JWT_VARIABLE = "JWT_SECRET"
_ENV_READS = frozenset({"os.environ.get", "os.getenv"})


def secret_from_env(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    node = _expression_at(wrapper, finding)
    if isinstance(node, cst.Name):
        node = _module_constant_value(wrapper, node.value)
    if not isinstance(node, cst.SimpleString):
        return None
    parents = wrapper.resolve(ParentNodeProvider)
    parent = parents.get(node)
    if isinstance(parent, cst.Assign) and parent.value is node:
        variable = _constant_name(parent, wrapper)
    elif isinstance(parent, cst.Arg) and _is_jwt_call(wrapper, parents.get(parent)):
        variable = JWT_VARIABLE
    else:
        return None
    if variable is None:
        return None
    module = cst_tools.replace_node(wrapper.module, node, _environ(variable))
    return cst_tools.import_module(wrapper, module, "os")


def _expression_at(wrapper: MetadataWrapper, finding: Finding) -> cst.CSTNode | None:
    """The string literal or name starting where the finding points."""
    positions = wrapper.resolve(PositionProvider)
    for node, where in positions.items():
        if isinstance(node, cst.SimpleString | cst.Name) and (
            where.start.line,
            where.start.column + 1,
        ) == (finding.line, finding.column):
            return node
    return None


def _module_constant_value(wrapper: MetadataWrapper, name: str) -> cst.BaseExpression | None:
    """The value of `NAME = <value>`, the one module-level assignment of the name."""
    values = [
        small.value
        for statement in wrapper.module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.Assign)
        and any(m.matches(target.target, m.Name(name)) for target in small.targets)
    ]
    return values[0] if len(values) == 1 else None


def _constant_name(assign: cst.Assign, wrapper: MetadataWrapper) -> str | None:
    """`API_KEY` for a module-level `API_KEY = "..."`; None elsewhere (a class, a function)."""
    if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    in_module = any(
        isinstance(statement, cst.SimpleStatementLine) and assign in statement.body
        for statement in wrapper.module.body
    )
    name = assign.targets[0].target.value
    return name.upper() if in_module and name.isidentifier() else None


def _is_jwt_call(wrapper: MetadataWrapper, node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.Call) and bool(
        cst_tools.qualified_names(wrapper, node.func) & {"jwt.encode", "jose.jwt.encode"}
    )


def _environ(variable: str) -> cst.BaseExpression:
    return cst.parse_expression(f'os.environ["{variable}"]')


# django-environ's `env(...)`, `env.str(...)` and decouple's `config(...)`
_LIBRARY_READS = (
    m.Name("env") | m.Name("config") | m.Attribute(value=m.Name("env"), attr=m.Name("str"))
)


def required_env(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if m.matches(call.func, _LIBRARY_READS):
            return _without_default(wrapper.module, call)
        if not cst_tools.qualified_names(wrapper, call.func) & _ENV_READS:
            continue
        if len(call.args) != 2 or not isinstance(call.args[0].value, cst.SimpleString):
            return None
        variable = call.args[0].value.evaluated_value
        if not isinstance(variable, str) or not variable.replace("_", "").isalnum():
            return None
        module = cst_tools.replace_node(wrapper.module, call, _environ(variable))
        return cst_tools.import_module(wrapper, module, "os")
    return None


def _without_default(module: cst.Module, call: cst.Call) -> cst.Module | None:
    kept = [arg for arg in call.args if arg.keyword is None or arg.keyword.value != "default"]
    if len(kept) == len(call.args) or len(kept) != 1:
        return None
    bare = kept[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst_tools.replace_node(module, call, call.with_changes(args=[bare]))


TRANSFORMS = {"secret-from-env": secret_from_env, "required-env": required_env}
