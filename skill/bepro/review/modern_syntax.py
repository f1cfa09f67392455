"""Parse sources written for Python 3.12-3.14 into a stdlib ``ast.Module`` on Python 3.11.

``ast.parse`` on 3.11 rejects PEP 695 type parameters and ``type`` aliases, PEP 701 f-strings,
PEP 750 template strings and PEP 758 unparenthesised ``except`` tuples. Only when the native parse
fails is the source lowered, token by token, to 3.11 syntax that keeps every statement and
expression on its original line (and, where cheap, column), then parsed again. The lowered tree
is for review, not execution: a type alias becomes an assignment, a t-string an f-string, and a
string literal that 3.11 cannot hold inside a replacement field a same-length placeholder.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from dataclasses import dataclass

__all__ = ["parse_module"]


def parse_module(source: str, filename: str) -> ast.Module:
    """Parse ``source`` as 3.11 does, falling back to its 3.11 lowering on a SyntaxError.

    A file that still fails after lowering raises the native SyntaxError, so a broken file is
    reported with its own message and line rather than one about the lowered text.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings in user code are not ours to report
        try:
            return ast.parse(source, filename=filename)
        except SyntaxError as native:
            lowered = _lower_or_none(source)
            if lowered is None:
                raise
            try:
                return ast.parse(lowered, filename=filename)
            except (SyntaxError, ValueError):
                raise native from None


class _Unlowerable(Exception):
    """Text that no Python tokenizes (the file is broken), or an f-string 3.11 cannot spell."""


_Edit = tuple[int, int, str]  # replace source[start:end] with the text


def _lower_or_none(source: str) -> str | None:
    try:
        lowered = _lower(source)
    except (_Unlowerable, RecursionError):  # deep nesting: report the native error instead
        return None
    return None if lowered == source else lowered


# --- Scanner: Python 3.14 tokenization, reduced to what the lowerings need ------------------

_TOKEN = re.compile(  # blanks and line continuations first, then one token (or the end)
    r"""
    (?:[ \t\f]+|\\\r?\n)*
    (?:
      (?P<name>[^\W\d]\w*)
    | (?P<nl>\r?\n|\r)
    | (?P<comment>\#[^\r\n]*)
    | (?P<number>\.?\d[\w.]*)
    | (?P<quote>['"])
    | (?P<op>\*\*=|//=|>>=|<<=|\.\.\.|->|:=|==|!=|<=|>=|\*\*|//|<<|>>|[-+*/%@&|^]=|[\s\S])
    | (?P<eof>\Z)
    )
    """,
    re.VERBOSE,
)
# A run of code the lowerings have no use for, read in one match at the top level: no string,
# comment or line continuation, and no name that starts a string or a lowered statement. What it
# holds of brackets and line ends is summed up by the _Tok it becomes.
_SKIP = re.compile(
    r"""(?:
      (?!(?:except|def|class|type)\b)[^\W\d]\w*+(?!['"])
    | [^\w'"\#\\]
    | \d
    )++""",
    re.VERBOSE,
)
_OPENERS, _CLOSERS = "([{", ")]}"
_PREFIXES = frozenset({"r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"})
# The body and closing quote of a plain string; a backslash always escapes the next character.
_STRING_BODY = {
    "'": re.compile(r"(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'"),
    '"': re.compile(r'(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*"'),
    "'''": re.compile(r"(?:[^'\\]|\\[\s\S]|'(?!''))*'''"),
    '"""': re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*"""'),
}
_FSTRING_TEXT = re.compile(r"[^{}\\\r\n'\"]+")
_NAME = re.compile(r"[^\W\d]\w*")
_KEYWORDS = frozenset({"except", "def", "class", "type"})
_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@dataclass(slots=True)
class _Tok:
    kind: str  # name, number, op, string, fstring, comment, newline (end of a logical line), skip
    start: int
    end: int
    fstring: _FString | None = None
    depth: int = 0  # a skipped run: the bracket depth after it
    ends_statement: bool | None = None  # a skipped run: whether a statement may start after it


@dataclass(slots=True)
class _Literal:
    start: int
    end: int


@dataclass(slots=True)
class _Field:
    """A replacement field: ``{`` expression [``!`` conversion] [``:`` format spec] ``}``."""

    start: int
    end: int
    expr: list[_Tok]
    expr_start: int
    expr_end: int
    conversion: str
    spec: list[_Literal | _Field] | None


@dataclass(slots=True)
class _FString:
    """An f-string or t-string, tokenized the 3.12+ way (fields may reuse the quote)."""

    start: int
    end: int
    prefix: str
    quote: str
    parts: list[_Literal | _Field]

    def body(self, source: str) -> str:
        return source[self.start + len(self.prefix) + len(self.quote) : self.end - len(self.quote)]


@dataclass(slots=True)
class _Reading:
    """Where the top level is read token by token, for the lowerings: after `except`, to the end
    of its logical line; after `def`, `class` or `type`, the name, a `[...]` after it and the
    token after that. Everywhere else runs of code are skimmed (_SKIP)."""

    skim: bool = True
    whole_line: bool = False
    left: int = 0  # tokens still to read after def/class/type
    bracket: int | None = None  # the depth a "[...]" after the name closes back to

    def saw(self, kind: str, text: str, depth: int) -> None:
        """A token read (its depth counted), not a line end."""
        if self.skim:
            if kind == "name" and text in _KEYWORDS:
                self.skim, self.whole_line = False, text == "except"
                self.left, self.bracket = 2, None
        elif self.whole_line:
            pass
        elif self.bracket is not None:
            if depth == self.bracket:  # the "]" closed it: read one more token (`=` of an alias)
                self.bracket, self.left = None, 1
        else:
            self.left -= 1
            if self.left == 0:
                if text == "[":
                    self.bracket = depth - 1
                else:
                    self.skim = True

    def newline(self) -> None:
        self.skim, self.whole_line, self.bracket = True, False, None


class _Scanner:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def tokens(self, in_field: bool) -> list[_Tok]:
        """Tokens to the end of the file, or of a replacement field's expression."""
        out: list[_Tok] = []
        depth = 0
        src, match_token = self.src, _TOKEN.match
        reading = None if in_field else _Reading()
        while True:
            if reading and reading.skim and (run := _SKIP.match(src, self.pos)) is not None:
                depth = _skipped(run.group(), depth, out, run.start(), run.end())
                self.pos = run.end()
                continue
            match = match_token(src, self.pos)
            if match is None or match.lastgroup in (None, "eof"):
                break
            kind = match.lastgroup or ""
            start, end = match.span(kind)
            if kind == "quote" or (kind == "name" and self._prefixes_string(start, end)):
                out.append(self._string(start, end if kind == "name" else start))
                continue
            if kind == "op":
                text = src[start:end]
                if in_field and depth == 0 and text in ("}", ":", ":=", "!"):
                    self.pos = start  # the expression ends; the field parser takes over
                    return out
                depth = max(0, depth + _BRACKETS.get(text, 0))
            if kind == "nl":
                if reading and depth == 0:
                    out.append(_Tok("newline", start, end))
                    reading.newline()
            elif kind != "comment" or in_field:  # a comment in a field must be blanked
                out.append(_Tok(kind, start, end))
                if reading:
                    reading.saw(kind, src[start:end], depth)
            self.pos = end
        if in_field:
            raise _Unlowerable
        return out

    def _prefixes_string(self, start: int, end: int) -> bool:
        return self.src[end : end + 1] in ("'", '"') and self.src[start:end].lower() in _PREFIXES

    def _string(self, start: int, quote_at: int) -> _Tok:
        char = self.src[quote_at]
        quote = char * 3 if self.src.startswith(char * 3, quote_at) else char
        prefix = self.src[start:quote_at]
        if "f" in prefix.lower() or "t" in prefix.lower():
            self.pos = quote_at + len(quote)
            parts = self._fstring_parts(quote, "r" in prefix.lower(), in_spec=False)
            self.pos += len(quote)
            fstring = _FString(start, self.pos, prefix, quote, parts)
            return _Tok("fstring", start, self.pos, fstring)
        match = _STRING_BODY[quote].match(self.src, quote_at + len(quote))
        if match is None:
            raise _Unlowerable
        self.pos = match.end()
        return _Tok("string", start, self.pos)

    def _fstring_parts(self, quote: str, raw: bool, in_spec: bool) -> list[_Literal | _Field]:
        """Literal text and fields up to the closing quote (or, in a format spec, the ``}``)."""
        src, parts = self.src, list[_Literal | _Field]()
        literal_start = self.pos
        while True:
            pos = self.pos
            if pos >= len(src) or (in_spec and src.startswith(quote, pos)):
                raise _Unlowerable
            char = src[pos]
            if src.startswith(quote, pos) or (char == "}" and in_spec):
                break
            if char == "{" and not (src.startswith("{{", pos) and not in_spec):
                if literal_start < pos:
                    parts.append(_Literal(literal_start, pos))
                parts.append(self._field(quote, raw))
                literal_start = self.pos
            elif char in "{}":
                if not src.startswith(char * 2, pos):
                    raise _Unlowerable  # a single "}" in literal text
                self.pos += 2
            elif char == "\\":
                self.pos = self._escape_end(pos, raw)
            elif char in "\r\n" and len(quote) == 1:
                raise _Unlowerable
            else:
                match = _FSTRING_TEXT.match(src, pos)
                self.pos = match.end() if match else pos + 1
        if literal_start < self.pos:
            parts.append(_Literal(literal_start, self.pos))
        return parts  # at the closing quote or "}", which the caller steps over

    def _escape_end(self, pos: int, raw: bool) -> int:
        src = self.src
        following = src[pos + 1 : pos + 2]
        if not following:
            raise _Unlowerable
        if following in "{}":  # the brace still opens or closes a field
            return pos + 1
        if not raw and src.startswith("N{", pos + 1):  # \N{NAME} is not a field
            close = src.find("}", pos + 3)
            if close < 0:
                raise _Unlowerable
            return close + 1
        return pos + 3 if src.startswith("\r\n", pos + 1) else pos + 2

    def _field(self, quote: str, raw: bool) -> _Field:
        start = self.pos
        self.pos += 1
        expr = self.tokens(in_field=True)
        expr_end, conversion, spec = self.pos, "", None
        if self.src.startswith("!", self.pos):
            match = _NAME.match(self.src, self.pos + 1)
            if match is None:
                raise _Unlowerable
            conversion, self.pos = self.src[self.pos : match.end()], match.end()
        if self.src.startswith(":", self.pos):
            self.pos += 1
            spec = self._fstring_parts(quote, raw, in_spec=True)
        if not self.src.startswith("}", self.pos):
            raise _Unlowerable
        self.pos += 1
        return _Field(start, self.pos, expr, start + 1, expr_end, conversion, spec)


def _skipped(text: str, depth: int, out: list[_Tok], start: int, end: int) -> int:
    """Add a skipped run's token, and return the bracket depth after it."""
    after = max(0, depth + sum(map(text.count, _OPENERS)) - sum(map(text.count, _CLOSERS)))
    last = text.rstrip(" \t\f")[-1:]
    ends: bool | None = None  # blanks only: whatever held before holds
    if last:
        ends = last in "\r\n;:" and after == 0
    out.append(_Tok("skip", start, end, depth=after, ends_statement=ends))
    return after


# --- Lowering: statements ---------------------------------------------------------------------


def _lower(source: str) -> str:
    tokens = _Scanner(source).tokens(in_field=False)
    edits: list[_Edit] = []
    index, depth, statement_start = 0, 0, True
    while index < len(tokens):
        tok, next_index = tokens[index], index + 1
        if tok.kind == "skip":
            depth = tok.depth
            if tok.ends_statement is not None:
                statement_start = tok.ends_statement
        elif tok.kind == "op":
            text = source[tok.start : tok.end]
            depth = max(0, depth + _BRACKETS.get(text, 0))
            # A type alias starts a statement: a line, or follows ";" or a compound's ":".
            statement_start = depth == 0 and text in (";", ":")
        else:
            if tok.kind == "fstring":
                edits.extend(_fstring_edits(source, tok))
            elif tok.kind == "name" and source[tok.start : tok.end] in _KEYWORDS:
                found = _statement_edits(source, tokens, index, statement_start)
                if found is not None:
                    new_edits, next_index = found
                    edits.extend(new_edits)
            statement_start = tok.kind == "newline"
        index = next_index
    return _apply(source, edits)


def _apply(source: str, edits: list[_Edit]) -> str:
    out, pos = [], 0
    for start, end, text in sorted(edits):
        if start >= pos:  # an edit inside a blanked region is moot
            out += [source[pos:start], text]
            pos = end
    out.append(source[pos:])
    return "".join(out)


def _statement_edits(
    source: str, tokens: list[_Tok], index: int, statement_start: bool
) -> tuple[list[_Edit], int] | None:
    """Edits for the keyword at ``index``, and the index of the token to carry on from."""
    word = source[tokens[index].start : tokens[index].end]
    if word == "except":
        return _except_edits(source, tokens, index), index + 1
    if word in ("def", "class") and _op_at(source, tokens, index + 2) == "[":
        close = _matching(source, tokens, index + 2)
        start, end = tokens[index + 2].start, tokens[close].end
        return [(start, end, _blank(source[start:end]))], close + 1
    if word == "type" and statement_start:
        return _type_alias(source, tokens, index)
    return None


def _op_at(source: str, tokens: list[_Tok], index: int) -> str:
    if index < len(tokens) and tokens[index].kind == "op":
        return source[tokens[index].start : tokens[index].end]
    return ""


def _matching(source: str, tokens: list[_Tok], index: int) -> int:
    """Index of the bracket closing the one at ``index``."""
    depth = 0
    for position in range(index, len(tokens)):
        text = _op_at(source, tokens, position)
        depth += _BRACKETS.get(text, 0)
        if depth == 0:
            return position
    raise _Unlowerable


def _blank(text: str) -> str:
    """Spaces for ``text``, keeping its line breaks, each continued by a backslash."""
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines):
        cr = "\r" if line.endswith("\r") else ""
        blank = " " * (len(line) - len(cr))
        if number < len(lines) - 1:
            blank = blank[:-1] + "\\"
        out.append(blank + cr)
    return "\n".join(out)


def _except_edits(source: str, tokens: list[_Tok], index: int) -> list[_Edit]:
    """PEP 758: ``except A, B:`` becomes ``except(A, B):``, A and B keeping their columns."""
    first = index + 2 if _op_at(source, tokens, index + 1) == "*" else index + 1
    depth, lambdas, comma = 0, 0, False
    for position in range(first, len(tokens)):
        tok = tokens[position]
        text = source[tok.start : tok.end]
        if tok.kind == "newline" or (depth == 0 and text == "as" and tok.kind == "name"):
            return []  # with "as", 3.14 still wants the parentheses
        depth += _BRACKETS.get(text, 0) if tok.kind == "op" else 0
        comma = comma or (depth == 0 and text == ",")
        lambdas += depth == 0 and text == "lambda" and tok.kind == "name"
        if depth == 0 and text == ":" and tok.kind == "op":
            if lambdas:
                lambdas -= 1
                continue
            if not comma or position == first:
                return []
            return [
                _put(source, tokens[first].start - 1, tokens[first].start, "("),
                _put(source, tokens[position].start - 1, tokens[position].start, ")"),
            ]
    return []


def _put(source: str, before: int, at: int, text: str) -> _Edit:
    """Overwrite the blank before ``at`` with ``text``, or insert it there if there is none."""
    return (before, at, text) if source[before] in " \t" else (at, at, text)


def _type_alias(source: str, tokens: list[_Tok], index: int) -> tuple[list[_Edit], int] | None:
    """PEP 695: ``type A[T] = v`` becomes ``(    A   )= v``, A and v keeping their columns."""
    if index + 2 >= len(tokens):
        return None
    name = tokens[index + 1]
    alias = source[name.start : name.end]
    if name.kind != "name" or keyword.iskeyword(alias):
        return None  # "type = 3", "type(x)", "type.mro", "type if ..."
    equals = index + 2
    if _op_at(source, tokens, equals) == "[":
        equals = _matching(source, tokens, equals) + 1
    if _op_at(source, tokens, equals) != "=":
        return None
    start, end = tokens[index].start, tokens[equals].start
    at = name.start - start
    blank = _blank(source[start:end])
    lowered = f"({blank[1:at]}{alias}{blank[at + len(alias) :]}"
    lowered = f"{lowered[:-1]})" if lowered.endswith(" ") else f"{lowered})"
    return [(start, end, lowered)], equals


# --- Lowering: f-strings and t-strings --------------------------------------------------------


def _fstring_edits(source: str, tok: _Tok) -> list[_Edit]:
    text = source[tok.start : tok.end]
    if tok.fstring is None or _parses(text):
        return []
    for lossy in (False, True):  # keep every expression if any choice can
        for quote, join in _strategies(tok.fstring.quote):
            lowered = _Renderer(source, join, lossy).fstring(tok.fstring, quote, ())
            if lowered is not None and _parses(lowered):
                # Line breaks taken out of fields come back after the string, as continuations.
                lost = text.count("\n") - lowered.count("\n")
                return [(tok.start, tok.end, lowered + "\\\n" * lost)]
    raise _Unlowerable


def _parses(expression: str) -> bool:
    try:
        ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _strategies(quote: str) -> list[tuple[str, bool]]:
    """Quote and join choices for an outermost f-string, least change first.

    Its own quote keeps columns; tripling it lets fields span lines; joining the fields onto
    one line is the last resort, for a multi-line field nested where 3.11 allows no newline.
    """
    if len(quote) == 3:
        return [(quote, False), (quote, True)]
    return [(quote, False), (quote * 3, False), (quote, True), (quote * 3, True)]


def _quote_order(quote: str) -> list[str]:
    """The original quote first, then the other character, then the other length."""
    other = "'" if quote[0] == '"' else '"'
    resized = quote[0] if len(quote) == 3 else quote * 3
    return [quote, other * len(quote), resized, other * len(resized)]


def _allowed(quote: str, outer: tuple[str, ...]) -> bool:
    """3.11 ends a string at the first enclosing quote, whatever nests in between."""
    return not any(quote[0] == q if len(q) == 1 else quote == q for q in outer)


def _fits(text: str, quotes: tuple[str, ...], join: bool, last: bool = True) -> bool:
    """Whether ``text`` can sit verbatim in a 3.11 replacement field, in strings ``quotes``."""
    if "\\" in text or any(q in text for q in quotes):
        return False
    if ("\n" in text or "\r" in text) and (join or any(len(q) == 1 for q in quotes)):
        return False
    return not (last and len(quotes[-1]) == 3 and text.endswith(quotes[-1][0]))


_SPACES = re.compile(r"[^\r\n]")
_UNICODE_NAME = re.compile(r"\\N\{[^}\r\n]*\}")


def _sanitize(text: str, quotes: tuple[str, ...], join: bool) -> str:
    """``text`` with what 3.11 forbids in a field blanked: backslashes, quotes, line breaks."""
    text = _UNICODE_NAME.sub(lambda match: " " * len(match.group()), text)  # no stray field
    forbidden = {"\\", *(q[0] for q in quotes)}
    if join or any(len(q) == 1 for q in quotes):
        forbidden |= {"\r", "\n"}
    return "".join(" " if char in forbidden else char for char in text)


@dataclass(slots=True)
class _Renderer:
    """Writes an f-string in 3.11 syntax.

    ``join`` puts every field on one line; ``lossy`` allows placeholders for the strings that
    3.11 cannot hold in a field, and blanks for fields nested too deep in a format spec.
    """

    src: str
    join: bool
    lossy: bool

    def fstring(self, fstring: _FString, quote: str, outer: tuple[str, ...]) -> str | None:
        quotes = (*outer, quote)
        body = self._parts(fstring.parts, quotes, bool(outer), 0)
        if body is None:
            return None
        prefix = fstring.prefix.replace("t", "f").replace("T", "F")  # PEP 750
        return f"{prefix}{quote}{body}{quote}"

    def _parts(
        self, parts: list[_Literal | _Field], quotes: tuple[str, ...], nested: bool, spec: int
    ) -> str | None:
        out = []
        for number, part in enumerate(parts):
            if isinstance(part, _Literal):
                last = spec == 0 and number == len(parts) - 1
                literal = self._literal(part, quotes, nested, last)
                if literal is None:
                    return None
                out.append(literal)
                continue
            if spec >= 2 and self.lossy:  # 3.11 nests fields one level deep in a format spec
                text = self.src[part.start : part.end]
                out.append(_SPACES.sub(" ", text) if not self.join else " " * len(text))
                continue
            field = self._field(part, quotes, nested, spec)
            if field is None:
                return None
            out.append(field)
        return "".join(out)

    def _literal(
        self, part: _Literal, quotes: tuple[str, ...], nested: bool, last: bool
    ) -> str | None:
        text = self.src[part.start : part.end]
        if not nested or _fits(text, quotes, self.join, last):
            return text  # an outermost f-string's literal text is never changed
        return _sanitize(text, quotes, self.join) if self.lossy else None

    def _field(self, field: _Field, quotes: tuple[str, ...], nested: bool, spec: int) -> str | None:
        out = ["{"]
        pos = field.expr_start
        for tok in field.expr:
            gap, piece = self._gap(pos, tok.start, quotes), self._token(tok, quotes)
            if gap is None or piece is None:
                return None
            out += [gap, piece]
            pos = tok.end
        gap = self._gap(pos, field.expr_end, quotes)
        if gap is None:
            return None
        out += [gap, field.conversion]
        if field.spec is not None:
            rendered = self._parts(field.spec, quotes, nested, spec + 1)
            if rendered is None:
                return None
            out += [":", rendered]
        return "".join([*out, "}"])

    def _gap(self, start: int, end: int, quotes: tuple[str, ...]) -> str | None:
        """Blanks between tokens; a backslash there can only continue a line."""
        text = self.src[start:end].replace("\\", " ")
        if self.join:
            return text.replace("\r", " ").replace("\n", " ")
        if ("\n" in text or "\r" in text) and any(len(q) == 1 for q in quotes):
            return None
        return text

    def _token(self, tok: _Tok, quotes: tuple[str, ...]) -> str | None:
        text = self.src[tok.start : tok.end]
        if tok.kind == "comment":
            return " " * len(text)
        if tok.kind == "string":
            return self._string(text, quotes)
        if tok.fstring is not None:
            return self._nested(tok.fstring, quotes)
        return text

    def _string(self, text: str, outer: tuple[str, ...]) -> str | None:
        """A string literal in a field: requoted if it can be, else a same-length placeholder."""
        body = text.lstrip("rRbBuU")
        prefix = text[: len(text) - len(body)]
        quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
        body = body[len(quote) : -len(quote)]
        candidates = [q for q in _quote_order(quote) if _allowed(q, outer)]
        for candidate in candidates:
            if _fits(body, (*outer, candidate), self.join):
                return f"{prefix}{candidate}{body}{candidate}"
        if not candidates or not self.lossy:
            return None
        placeholder = _sanitize(body, (*outer, candidates[0]), self.join)
        return f"{prefix}{candidates[0]}{placeholder}{candidates[0]}"

    def _nested(self, fstring: _FString, outer: tuple[str, ...]) -> str | None:
        candidates = [q for q in _quote_order(fstring.quote) if _allowed(q, outer)]
        for candidate in candidates:
            rendered = self.fstring(fstring, candidate, outer)
            if rendered is not None:
                return rendered
        if not candidates or not self.lossy:
            return None
        # No quote left for its own strings: a plain string keeps at least its literal text.
        placeholder = _sanitize(fstring.body(self.src), (*outer, candidates[0]), self.join)
        return f"{candidates[0]}{placeholder}{candidates[0]}"
