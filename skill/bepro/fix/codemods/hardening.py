"""Hardening codemods: a call that turns a check off, or trusts its input, is made to check.

verify-tls       `verify=False` on a requests/httpx call -> removed, so certificates are
                 checked again. Unsafe: a peer with a self-signed or expired certificate now
                 fails, which no test with a fake transport shows
safe-yaml        `yaml.load(text)` / `yaml.load(text, Loader=yaml.Loader)` ->
                 `yaml.safe_load(text)` (and load_all): plain YAML loads the same; tags that
                 build Python objects are refused
literal-eval     `eval(text)` -> `ast.literal_eval(text)`. Unsafe: text that is an
                 expression rather than a literal (`2 * 3`, a name) no longer evaluates
except-exception a bare `except:` -> `except Exception:`: KeyboardInterrupt, SystemExit and
                 task cancellation propagate instead of being swallowed
verifying-context `smtplib.SMTP_SSL(...)`, `imaplib.IMAP4_SSL(...)`, `poplib.POP3_SSL(...)`,
                 `ftplib.FTP_TLS(...)` and `starttls()` with no SSL context ->
                 `context=ssl.create_default_context()` (`ssl_context=` for imaplib's
                 IMAP4_SSL). Unsafe: a server with a self-signed certificate now fails
compare-digest   `signature == expected` / `!=` where a signature is checked ->
                 `hmac.compare_digest(signature, expected)` / `not ...`, which takes the same time
                 whatever matches. Unsafe: a str compared with bytes, or a str with non-ASCII
                 characters, raises TypeError where `==` returned False
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from bepro.fix import cst_tools
from bepro.review.detectors.security import UNVERIFIED_BY_DEFAULT
from bepro.review.finding import Finding

_YAML_LOADS = {"yaml.load": "safe_load", "yaml.load_all": "safe_load_all"}
_VERIFY_OFF = m.Arg(keyword=m.Name("verify"), value=m.Name("False"))


def verify_tls(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_around(wrapper, finding.line, finding.column):
        off = next((arg for arg in call.args if m.matches(arg, _VERIFY_OFF)), None)
        if off is None:
            continue
        return cst_tools.replace_node(wrapper.module, call, cst_tools.without_arg(call, off))
    return None


def verifying_context(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        names = cst_tools.qualified_names(wrapper, call.func) & UNVERIFIED_BY_DEFAULT.keys()
        starttls = m.matches(call.func, m.Attribute(attr=m.Name("starttls"))) and not call.args
        if not names and not starttls:
            continue
        if cst_tools.has_star_args(call):
            return None
        # the keyword that takes a context: the detector's table of those clients has it
        keyword = UNVERIFIED_BY_DEFAULT[next(iter(names))][0] if names else "context"
        verifying = cst.parse_expression("ssl.create_default_context()")
        module = cst_tools.replace_node(
            wrapper.module, call, cst_tools.with_keyword(call, keyword, verifying)
        )
        return cst_tools.import_module(wrapper, module, "ssl")
    return None


def safe_yaml(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_around(wrapper, finding.line, finding.column):
        names = cst_tools.qualified_names(wrapper, call.func) & _YAML_LOADS.keys()
        if not names or not isinstance(call.func, cst.Attribute):
            continue
        loader = cst_tools.keyword_arg(call, "Loader")
        positional = [arg for arg in call.args if arg.keyword is None]
        if cst_tools.has_star_args(call) or len(call.args) > 2:
            return None  # the stream and the Loader (positional or not), nothing else
        stream = positional[0] if positional else cst_tools.keyword_arg(call, "stream")
        if stream is None or stream is loader:
            return None
        method = _YAML_LOADS[next(iter(names))]
        new_call = call.with_changes(
            func=call.func.with_changes(attr=cst.Name(method)),
            args=[stream.with_changes(comma=cst.MaybeSentinel.DEFAULT)],
        )
        return cst_tools.replace_node(wrapper.module, call, new_call)
    return None


def literal_eval(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if cst_tools.qualified_names(wrapper, call.func) != {"builtins.eval"}:
            continue
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None  # globals/locals given: the caller relies on evaluating names
        new_call = call.with_changes(func=cst.parse_expression("ast.literal_eval"))
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.import_module(wrapper, module, "ast")
    return None


def except_exception(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    positions = wrapper.resolve(PositionProvider)
    for node, where in positions.items():
        if (
            isinstance(node, cst.ExceptHandler)
            and node.type is None
            and where.start.line == finding.line
        ):
            typed = node.with_changes(
                type=cst.Name("Exception"), whitespace_after_except=cst.SimpleWhitespace(" ")
            )
            return cst_tools.replace_node(wrapper.module, node, typed)
    return None


def compare_digest(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    positions = wrapper.resolve(PositionProvider)
    for node, where in positions.items():
        if (
            isinstance(node, cst.Comparison)
            and len(node.comparisons) == 1
            and isinstance(node.comparisons[0].operator, cst.Equal | cst.NotEqual)
            and (where.start.line, where.start.column + 1) == (finding.line, finding.column)
        ):
            target = node.comparisons[0]
            call = cst.Call(
                func=cst.Attribute(cst.Name("hmac"), cst.Name("compare_digest")),
                args=[
                    cst.Arg(node.left, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    cst.Arg(target.comparator),
                ],
            )
            checked: cst.BaseExpression = call
            if isinstance(target.operator, cst.NotEqual):
                checked = cst.UnaryOperation(cst.Not(), call)
            module = cst_tools.replace_node(wrapper.module, node, checked)
            return cst_tools.import_module(wrapper, module, "hmac")
    return None


TRANSFORMS = {
    "compare-digest": compare_digest,
    "verify-tls": verify_tls,
    "verifying-context": verifying_context,
    "safe-yaml": safe_yaml,
    "literal-eval": literal_eval,
    "except-exception": except_exception,
}
