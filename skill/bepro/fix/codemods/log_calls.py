"""Logging codemods: a log message becomes a constant template with its values as arguments.

lazy-log-args   `log.info(f"user {user_id} paid {amount:.2f}")`, `"..." % values`,
                `"...".format(...)` and `"..." + value` messages ->
                `log.info("user %s paid %.2f", user_id, amount)`: the text is only built
                when the record is emitted, and every record of the call shares one template
                that log pipelines can group by. The same text comes out: `%s` prints what
                `{}` printed, `!r` becomes `%r`, and simple number specs (`.2f`, `05d`, `x`)
                keep their % spelling; anything else (alignment, nested specs, `{x=}`) is
                left alone.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal"}
)
# a format spec with the same meaning in %-formatting: flags/width, precision, one type letter
_NUMBER_SPEC = re.compile(r"[0-9]*(\.[0-9]+)?[dfFeEgGxXo]")
_CONVERSIONS = {None: "s", "s": "s", "r": "r", "a": "a"}
# a %-format placeholder as logging will read it; `*` widths take extra arguments
_PLACEHOLDER = re.compile(r"%(\([^)]*\))?[#0\- +]*(\*|\d+)?(\.(\*|\d+))?[hlL]?([a-zA-Z%])")
# expressions that can be evaluated twice (a `.format` argument used by two fields) unchanged
_PURE = m.Name() | m.Attribute(value=m.Name()) | m.Integer() | m.SimpleString()


@dataclass(frozen=True)
class _Message:
    """A log message as a %-template (a string literal, or literals side by side) and its
    arguments."""

    template: cst.BaseExpression
    args: list[cst.BaseExpression]


def lazy_log_args(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_around(wrapper, finding.line, finding.column):
        index = _message_index(call)
        if index is None:
            continue
        message = _lazy(wrapper.module, call.args[index].value)
        if message is None:
            continue
        return cst_tools.replace_node(wrapper.module, call, _with_message(call, index, message))
    return None


def _message_index(call: cst.Call) -> int | None:
    """Where the message is in a `<logger>.<level>(msg, ...)` or `.log(level, msg)` call with no
    arguments for it yet."""
    if not isinstance(call.func, cst.Attribute) or cst_tools.has_star_args(call):
        return None
    method = call.func.attr.value
    index = 1 if method == "log" else 0 if method in _LOG_METHODS else None
    positional = [arg for arg in call.args if arg.keyword is None]
    if index is None or len(positional) != index + 1 or call.args[index].keyword is not None:
        return None
    return index


def _with_message(call: cst.Call, index: int, message: _Message) -> cst.Call:
    template = call.args[index].with_changes(value=message.template)
    args = list(call.args)
    args[index] = template
    for offset, value in enumerate(message.args, start=1):
        args = cst_tools.insert_item(
            args, index + offset, cst.Arg(value), call.whitespace_before_args
        )
    return call.with_changes(args=args)


def _lazy(module: cst.Module, value: cst.BaseExpression) -> _Message | None:
    if isinstance(value, cst.FormattedString):
        return _from_fstring(module, value)
    if isinstance(value, cst.ConcatenatedString):
        return _from_side_by_side(module, value)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Modulo):
        return _from_percent(value)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        return _from_concatenation(value)
    if m.matches(value, m.Call(func=m.Attribute(value=m.SimpleString(), attr=m.Name("format")))):
        assert isinstance(value, cst.Call)  # noqa: S101 - the matcher matched a call
        return _from_format(value)
    return None


def _from_fstring(module: cst.Module, value: cst.FormattedString) -> _Message | None:
    converted = _fstring_template(module, value)
    if converted is None:
        return None
    text, args = converted
    if not args:
        text = text.replace("%%", "%")  # logging %-formats a message only when it has arguments
    return _Message(cst.SimpleString(text), args)


def _fstring_template(
    module: cst.Module, value: cst.FormattedString
) -> tuple[str, list[cst.BaseExpression]] | None:
    """The f-string as the source of a %-template literal (its `%` escaped), and its values."""
    prefix = value.prefix.lower().replace("f", "")
    body: list[str] = []
    args: list[cst.BaseExpression] = []
    for part in value.parts:
        if isinstance(part, cst.FormattedStringText):
            body.append(part.value.replace("{{", "{").replace("}}", "}").replace("%", "%%"))
            continue
        if not isinstance(part, cst.FormattedStringExpression):
            return None
        placeholder = _placeholder(module, part)
        if placeholder is None or not _one_argument(part.expression):
            return None
        body.append(placeholder)
        args.append(part.expression)
    return f"{prefix}{value.start[len(value.prefix) :]}{''.join(body)}{value.end}", args


def _from_side_by_side(module: cst.Module, value: cst.ConcatenatedString) -> _Message | None:
    """`f"a {x} " "b"` over several lines -> `"a %s " "b"`, x: each piece stays on its line."""
    args: list[cst.BaseExpression] = []
    template = _side_by_side_template(module, value, args)
    return _Message(template, args) if template is not None and args else None


def _side_by_side_template(
    module: cst.Module, value: cst.BaseExpression, args: list[cst.BaseExpression]
) -> cst.BaseExpression | None:
    """The literals side by side as template pieces; their values are appended to `args`."""
    if isinstance(value, cst.ConcatenatedString):
        left = _side_by_side_template(module, value.left, args)
        right = _side_by_side_template(module, value.right, args)
        if left is None or right is None:
            return None
        return value.with_changes(left=left, right=right)
    if isinstance(value, cst.FormattedString):
        converted = _fstring_template(module, value)
        if converted is None:
            return None
        args += converted[1]
        return cst.SimpleString(converted[0])
    if isinstance(value, cst.SimpleString) and "b" not in value.prefix.lower():
        raw = value.raw_value.replace("%", "%%")
        return cst.SimpleString(f"{value.prefix}{value.quote}{raw}{value.quote}")
    return None


def _placeholder(module: cst.Module, part: cst.FormattedStringExpression) -> str | None:
    if part.equal is not None:
        return None  # `{x=}` prints the expression's source too
    spec = "".join(module.code_for_node(piece) for piece in part.format_spec or [])
    return _spec_placeholder(spec, part.conversion)


def _one_argument(expression: cst.BaseExpression) -> bool:
    """Whether the expression stays one argument when it moves into a call's argument list."""
    bare_tuple = isinstance(expression, cst.Tuple) and not expression.lpar
    return not bare_tuple and not isinstance(expression, cst.Yield | cst.NamedExpr)


def _from_percent(value: cst.BinaryOperation) -> _Message | None:
    if not isinstance(value.left, cst.SimpleString):
        return None
    text = str(value.left.evaluated_value)
    placeholders = [found for found in _PLACEHOLDER.finditer(text) if found.group(5) != "%"]
    if not placeholders or any("*" in found.group(0) for found in placeholders):
        return None
    right = value.right
    if isinstance(right, cst.Tuple):
        if any(isinstance(element, cst.StarredElement) for element in right.elements):
            return None
        return _Message(value.left, [element.value for element in right.elements])
    named = bool(placeholders) and all(found.group(1) for found in placeholders)
    if len(placeholders) == 1 or (named and isinstance(right, cst.Dict | cst.Name)):
        # one value, or one mapping for %(name)s: logging formats both as `%` did
        return _Message(value.left, [right.with_changes(lpar=[], rpar=[])])
    return None


def _from_concatenation(value: cst.BinaryOperation) -> _Message | None:
    """`"a " + name + " b"` -> `"a %s b", name` (a str concatenation: `%s` prints it as it is)."""
    parts = _added(value)
    literals = [part for part in parts if isinstance(part, cst.SimpleString)]
    if not literals or not isinstance(parts[0], cst.SimpleString):
        return None
    quote = literals[0].prefix + literals[0].quote
    if any(literal.prefix + literal.quote != quote for literal in literals):
        return None
    body: list[str] = []
    args: list[cst.BaseExpression] = []
    for part in parts:
        if isinstance(part, cst.SimpleString):
            body.append(part.raw_value.replace("%", "%%"))
        elif isinstance(part, cst.FormattedString | cst.ConcatenatedString):
            return None
        else:
            body.append("%s")
            args.append(part.with_changes(lpar=[], rpar=[]) if _simple(part) else part)
    return _Message(cst.SimpleString(f"{quote}{''.join(body)}{literals[0].quote}"), args)


def _added(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    if (
        isinstance(value, cst.BinaryOperation)
        and isinstance(value.operator, cst.Add)
        and not value.lpar
    ):
        return [*_added(value.left), *_added(value.right)]
    return [value]


def _simple(part: cst.BaseExpression) -> bool:
    return m.matches(part, m.Name() | m.Attribute() | m.Call() | m.Subscript())


def _from_format(call: cst.Call) -> _Message | None:
    literal = call.func.value if isinstance(call.func, cst.Attribute) else None
    if not isinstance(literal, cst.SimpleString) or "\\N" in literal.raw_value:
        return None
    if cst_tools.has_star_args(call):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None]
    named = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    body: list[str] = []
    args: list[cst.BaseExpression] = []
    used: list[int] = []
    automatic = 0
    try:
        fields = list(string.Formatter().parse(literal.raw_value))
    except ValueError:
        return None
    for text, field, spec, conversion in fields:
        body.append(text.replace("%", "%%"))
        if field is None:
            continue
        if field == "":
            field, automatic = str(automatic), automatic + 1
        value = positional[int(field)] if field.isdigit() and int(field) < len(positional) else None
        value = named.get(field, value)
        placeholder = _spec_placeholder(spec or "", conversion)
        if value is None or placeholder is None:
            return None
        if id(value) in used and not m.matches(value, _PURE):
            return None  # a call used by two fields would now run twice
        used.append(id(value))
        body.append(placeholder)
        args.append(value)
    given = [id(arg.value) for arg in call.args]
    if set(given) - set(used):
        return None  # an argument no field uses was still evaluated before
    order = [given.index(value) for value in used]
    if order != sorted(order) and not all(m.matches(arg, _PURE) for arg in args):
        return None  # the fields take the arguments in another order: calls would run reordered
    text = f"{literal.prefix}{literal.quote}{''.join(body)}{literal.quote}"
    return _Message(cst.SimpleString(text), args)


def _spec_placeholder(spec: str, conversion: str | None) -> str | None:
    if not spec:
        kind = _CONVERSIONS.get(conversion)
        return f"%{kind}" if kind else None
    if conversion is None and _NUMBER_SPEC.fullmatch(spec):
        return f"%{spec}"
    return None


LOGGER = "logger"
_LOGGER_DEFINITION = f"{LOGGER} = logging.getLogger(__name__)\n"
_GET_LOGGER = "logging.getLogger"
_PRINT_OPTIONS = frozenset({"sep", "flush"})  # end= and file= change what a record would say


def print_to_log(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if cst_tools.qualified_names(wrapper, call.func) != {"builtins.print"}:
            continue
        logger = _module_logger(wrapper, call)
        record = _print_record(call)
        if logger is None or record is None:
            return None
        new_call = cst.Call(
            cst.Attribute(cst.Name(logger), cst.Name("info")),
            record,
            lpar=call.lpar,
            rpar=call.rpar,
            whitespace_before_args=call.whitespace_before_args,
        )
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return _with_module_logger(wrapper, module, logger)
    return None


def _print_record(call: cst.Call) -> list[cst.Arg] | None:
    """The arguments of the log call that says what `print(...)` printed, or None."""
    if cst_tools.has_star_args(call):
        return None
    options = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
    values = [arg for arg in call.args if arg.keyword is None]
    sep = options.get("sep")
    if not values or set(options) - _PRINT_OPTIONS:
        return None
    if sep is not None and not isinstance(sep.value, cst.SimpleString):
        return None
    if len(values) == 1:
        return [values[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    joiner = (
        sep.value.raw_value if sep is not None and isinstance(sep.value, cst.SimpleString) else " "
    )
    if '"' in joiner or "\\" in joiner:
        return None
    args = [arg for arg in values if _folded(arg.value) is None]
    escape = bool(args)  # logging %-formats a message only when it has arguments
    folded = [_folded(arg.value, escape) for arg in values]
    pieces = ["%s" if piece is None else piece for piece in folded]
    text = (joiner.replace("%", "%%") if escape else joiner).join(pieces)
    plain = [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in args]
    return [cst.Arg(cst.SimpleString(f'"{text}"')), *plain]


def _folded(value: cst.BaseExpression, escape: bool = True) -> str | None:
    """The text a plain double-quoted literal adds to a template, or None."""
    if isinstance(value, cst.SimpleString) and value.prefix == "" and value.quote == '"':
        return value.raw_value.replace("%", "%%") if escape else value.raw_value
    return None


def _module_logger(wrapper: MetadataWrapper, at: cst.CSTNode) -> str | None:
    """The name of the module's `logging.getLogger(...)` logger, or the one to add; None when
    the name is taken by something else, at module level or in a scope around `at`."""
    name = _logger_name(wrapper)
    if name is None or cst_tools.bound_locally(wrapper, at, name):
        return None
    return name


def _logger_name(wrapper: MetadataWrapper) -> str | None:
    for statement in wrapper.module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Call)
                and _GET_LOGGER in cst_tools.qualified_names(wrapper, small.value.func)
            ):
                return small.targets[0].target.value
    return LOGGER if cst_tools.global_binding(wrapper, LOGGER) is None else None


def _with_module_logger(
    wrapper: MetadataWrapper, module: cst.Module, logger: str
) -> cst.Module | None:
    if cst_tools.global_binding(wrapper, logger) is not None:
        return module
    if cst_tools.global_binding(wrapper, "logging") not in (None, {"logging"}):
        return None
    module = cst_tools.insert_after_imports(module, cst.parse_statement(_LOGGER_DEFINITION))
    return cst_tools.import_module(wrapper, module, "logging")


def module_logger(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        names = cst_tools.qualified_names(wrapper, call.func)
        method = next((n.removeprefix("logging.") for n in names if n.startswith("logging.")), "")
        if method not in _LOG_METHODS | {"log"} or not isinstance(call.func, cst.Attribute):
            continue
        logger = _module_logger(wrapper, call)
        if logger is None:
            return None
        new_func = call.func.with_changes(value=cst.Name(logger))
        module = cst_tools.replace_node(wrapper.module, call.func, new_func)
        return _with_module_logger(wrapper, module, logger)
    return None


TRANSFORMS = {
    "lazy-log-args": lazy_log_args,
    "print-to-log": print_to_log,
    "module-logger": module_logger,
}
