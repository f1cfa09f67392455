"""Web route handlers as the API detectors see them: which HTTP methods a decorated function serves."""

from __future__ import annotations

import ast

from bepro.review.context import keyword

_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete"})
_ROUTE_DECORATORS = frozenset({"route", "api_route"})


def route_methods(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    """HTTP methods a decorated handler serves: `@app.post("/x")`, `@router.get("")`,
    `@bp.route("/x", methods=["POST"])`. The path argument tells a route from other decorators."""
    methods: set[str] = set()
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        if not _has_route_path(decorator):
            continue
        verb = decorator.func.attr
        if verb in _HTTP_VERBS:
            methods.add(verb.upper())
        elif verb in _ROUTE_DECORATORS:
            methods |= _listed_methods(decorator)
    return frozenset(methods)


def _has_route_path(decorator: ast.Call) -> bool:
    path = decorator.args[0] if decorator.args else None
    named = keyword(decorator, "path") or keyword(decorator, "rule")
    if named is not None:
        path = named.value
    return (
        isinstance(path, ast.Constant)
        and isinstance(path.value, str)
        and path.value[:1] in ("/", "")
    )


def _listed_methods(decorator: ast.Call) -> frozenset[str]:
    listed = keyword(decorator, "methods")
    if listed is None:
        return frozenset({"GET"})
    if not isinstance(listed.value, ast.List | ast.Tuple | ast.Set):
        return frozenset()
    return frozenset(
        item.value.upper()
        for item in listed.value.elts
        if isinstance(item, ast.Constant) and isinstance(item.value, str)
    )
