"""parse_module: files written for Python 3.12-3.14 parse on 3.11, every node on its own line.

Each snippet below is rejected by 3.11's ``ast.parse`` and accepted by CPython 3.14; the lowered
tree must put every ``requests.get(...)`` call where it is in the text.
"""

from __future__ import annotations

import ast
import warnings

import pytest

from bepro.review.modern_syntax import parse_module

CALL = "requests.get("

# name -> (source, whether the calls also keep their columns)
SNIPPETS: dict[str, tuple[str, bool]] = {
    "pep758-except": (
        "try:\n    pass\nexcept ValueError, TypeError:\n    requests.get(url)\n",
        True,
    ),
    "pep758-except-star": (
        "try:\n    pass\nexcept* OSError, requests.Timeout:\n    requests.get(url)\n",
        True,
    ),
    "pep758-one-line-handler": (
        "try: requests.get(a)\nexcept (KeyError), IndexError: requests.get(b)\nrequests.get(c)\n",
        False,  # ")" is inserted before the colon: the handler's body moves one column
    ),
    "pep695-def": (
        "def first[T, *Ts, **P](items: list[T]) -> T:\n    return requests.get(items[0])\n",
        True,
    ),
    "pep695-async-def-with-bounds": (
        "async def fetch[T: (int, str) = int](x: T) -> T:\n    return requests.get(x)\n",
        True,
    ),
    "pep695-class": (
        "class Box[T: int = str](Base, metaclass=Meta):\n    x = requests.get(u)\n",
        True,
    ),
    "pep695-class-multiline-params": (
        "class Pair[\n    K,\n    V = int,\n](Base):\n    pass\nrequests.get(u)\n",
        True,
    ),
    "pep695-type-alias": (
        "type Alias = int\nrequests.get(u)\n",
        True,
    ),
    "pep695-generic-alias-then-semicolon": (
        "type Pairs[K, V] = dict[K, list[V]]; requests.get(u)\n",
        True,
    ),
    "pep695-alias-in-one-line-if": (
        "if TYPE_CHECKING: type Id = int\nelse: Id = requests.get(u)\n",
        True,
    ),
    "pep695-multiline-alias": (
        "type Table[\n    T,\n] = dict[\n    str, T]\nrequests.get(u)\n",
        True,
    ),
    "pep701-reused-quote": (
        'x = f"{requests.get(u).json()["key"]}"\n',
        True,
    ),
    "pep701-backslash-in-field": (
        'x = f"{"\\n".join(requests.get(u).text)}"\n',
        True,
    ),
    "pep701-comment-in-field": (
        'x = f"{requests.get(u)  # the user\n}"\nrequests.get(v)\n',
        False,  # the f-string becomes triple-quoted: two columns to the right
    ),
    "pep701-multiline-field": (
        'call(f"{a +\n    requests.get(u)}", k)\nrequests.get(v)\n',
        False,
    ),
    "pep701-nested-same-quotes": (
        'x = f"{f"{f"{requests.get(u)["a"]}"}"}"\nrequests.get(v)\n',
        False,
    ),
    "pep701-multiline-field-nested-deep": (
        # No 3.11 quoting holds a line break three f-strings deep: it moves after the string
        # (as a continuation), so what follows the string keeps its line.
        'x = f"{f"{f"{\n    value}"}"}"; requests.get(u)\nrequests.get(v)\n',
        False,
    ),
    "pep701-format-spec-reused-quotes": (
        'x = f"{requests.get(u):{spec["width"]}}"\n',
        True,
    ),
    "pep750-template-strings": (
        "a = t\"Hello {requests.get(u)}\"\nb = Rt'\\d{requests.get(v)!r:>10}'\n"
        'c = T"""{\n  requests.get(w)}"""\n',
        True,
    ),
    "pep750-template-in-fstring": (
        'x = f"{t"{requests.get(u)}"}"\n',
        True,
    ),
    "crlf-line-endings": (
        "class C[\r\n    T,\r\n]:\r\n    pass\r\ntry:\r\n    pass\r\nexcept A, B:\r\n"
        "    requests.get(u)\r\n",
        True,
    ),
}


def native_parse(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def text_positions(source: str) -> list[tuple[int, int]]:
    positions = []
    for number, line in enumerate(source.splitlines(), start=1):
        column = line.find(CALL)
        while column >= 0:
            positions.append((number, column))
            column = line.find(CALL, column + 1)
    return positions


def call_positions(tree: ast.AST) -> list[tuple[int, int]]:
    return sorted(
        (node.lineno, node.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "requests"
    )


@pytest.mark.parametrize(("source", "keeps_columns"), SNIPPETS.values(), ids=SNIPPETS.keys())
def test_new_syntax_parses_with_every_call_on_its_line(source: str, keeps_columns: bool) -> None:
    with pytest.raises(SyntaxError):
        native_parse(source)  # the snippet really needs the lowering
    found, expected = call_positions(parse_module(source, "snippet.py")), text_positions(source)
    assert [line for line, _ in found] == [line for line, _ in expected]
    if keeps_columns:
        assert found == expected


def test_pep758_combined_with_pep701_and_pep695_in_one_file() -> None:
    source = (
        "type Handler[T] = Callable[[T], None]\n"  # line 1
        "class Client[T](Base):\n"
        "    def fetch[R](self, url: str) -> R:\n"
        "        try:\n"
        '            return f"{self.cache["key"]}"\n'  # line 5
        "        except TimeoutError, ConnectionError:\n"
        "            pass\n"
        "requests.get(url)\n"  # line 8
    )
    tree = parse_module(source, "combined.py")
    alias = tree.body[0]
    assert isinstance(alias, ast.Assign)
    assert isinstance(alias.targets[0], ast.Name)
    assert (alias.targets[0].id, alias.targets[0].col_offset, alias.value.col_offset) == (
        "Handler",
        5,
        source.index("Callable"),
    )
    cls = tree.body[1]
    assert isinstance(cls, ast.ClassDef)
    assert (cls.name, cls.lineno, [ast.unparse(base) for base in cls.bases]) == (
        "Client",
        2,
        ["Base"],
    )
    method = cls.body[0]
    assert isinstance(method, ast.FunctionDef)
    assert (method.name, method.lineno) == ("fetch", 3)
    handler_try = method.body[0]
    assert isinstance(handler_try, ast.Try)
    key = next(n for n in ast.walk(handler_try.body[0]) if isinstance(n, ast.Constant))
    assert (key.value, key.lineno) == ("key", 5)
    handler = handler_try.handlers[0]
    assert isinstance(handler.type, ast.Tuple)
    names = [(n.id, n.lineno, n.col_offset) for n in handler.type.elts if isinstance(n, ast.Name)]
    assert names == [("TimeoutError", 6, 15), ("ConnectionError", 6, 29)]
    assert call_positions(tree) == [(8, 0)]


def test_lowered_fstrings_keep_their_literal_text_and_values() -> None:
    source = 'x = f"a {d["k"]!r:>{w}} b\\n" + t"{v}" + f"{"\\t".join(xs)} c"\n'
    statement = parse_module(source, "values.py").body[0]
    assert isinstance(statement, ast.Assign)
    assert isinstance(statement.value, ast.BinOp)
    assert isinstance(statement.value.left, ast.BinOp)
    strings = [statement.value.left.left, statement.value.left.right, statement.value.right]
    assert all(isinstance(string, ast.JoinedStr) for string in strings)
    texts = [
        [v.value for v in ast.iter_child_nodes(s) if isinstance(v, ast.Constant)] for s in strings
    ]
    assert texts == [["a ", " b\n"], [], [" c"]]
    subscript = next(n for n in ast.walk(statement) if isinstance(n, ast.Subscript))
    assert ast.unparse(subscript) == "d['k']"
    # "\t" cannot sit in a 3.11 field: a same-length str placeholder takes its place
    joined = next(
        n for n in ast.walk(statement) if isinstance(n, ast.Attribute) and n.attr == "join"
    )
    assert isinstance(joined.value, ast.Constant)
    assert isinstance(joined.value.value, str)
    assert len(joined.value.value) == len("\\t")


def test_type_as_an_ordinary_name_is_left_alone() -> None:
    source = (
        "type = 3\n"
        "type(x)\n"
        "print(type)\n"
        "type.mro\n"
        "kind: type = int\n"
        "y = type if x else None\n"
        "type Alias = int\n"  # the soft keyword, which forces the lowering
    )
    tree = parse_module(source, "names.py")
    unparsed = [ast.unparse(statement) for statement in tree.body]
    assert unparsed[:6] == source.splitlines()[:6]
    assert [statement.lineno for statement in tree.body] == list(range(1, 8))
    assert unparsed[6] == "Alias = int"


@pytest.mark.parametrize(
    "source",
    [
        "x = (\n",
        "def f(:\n    pass\n",
        'x = f"{"\n',
        "x = f'{d['\n",
        "try:\n    pass\nexcept A, B as error:\n    pass\n",  # 3.14 still wants parentheses
        "def f[T](:\n    pass\n",
        "type Alias = int\nx = = 1\n",
        'x = t"{}"\n',
        "class C[T:\n",
    ],
)
def test_a_broken_file_raises_the_native_error(source: str) -> None:
    with pytest.raises(SyntaxError) as native:
        native_parse(source)
    with pytest.raises(SyntaxError) as raised:
        parse_module(source, "broken.py")
    assert (raised.value.msg, raised.value.lineno) == (native.value.msg, native.value.lineno)
    assert raised.value.filename == "broken.py"


@pytest.mark.parametrize(
    "source",
    [
        'x = f"{d[\'key\']}" + f"""{d["k"]}"""\n',
        "try:\n    pass\nexcept (A, B):\n    pass\n",
        "type = 3\nprint(type(x))\n",
        'x = f"{x!r:>{width}} \\N{BULLET}"\n',
        "def f(x):\n    return x  # f\"{x['a']}\"\n",
    ],
)
def test_a_file_that_parses_natively_is_parsed_unchanged(source: str) -> None:
    expected = ast.dump(native_parse(source), include_attributes=True)
    assert ast.dump(parse_module(source, "native.py"), include_attributes=True) == expected
