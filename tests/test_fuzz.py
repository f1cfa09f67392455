"""Fuzzing: the chunker, the reference parser and `bepro review` never crash, whatever they read.

Hypothesis runs derandomized (the same examples on every run) with bounded example counts and no
example database, so the suite stays hermetic and this module runs in well under a minute.
"""

from __future__ import annotations

import ast
import tempfile
import textwrap
import warnings
from functools import cache
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bepro.catalogue.model import Catalogue
from bepro.knowledge.chunk import chunk_file
from bepro.knowledge.references import parse_reference
from bepro.review.engine import ReviewOptions, review_files, review_source
from bepro.review.finding import ReviewResult

from .conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles odd code


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


SOURCES = (
    "SKILL.md",
    "references/rules/timeouts.md",
    "references/rules/not-a-rule.md",
    "references/actions/review.md",
    "references/python-core.md",
    "references/notes.md",
)
WORDS = st.text(st.characters(codec="utf-8", exclude_characters="\n\r`~|"), max_size=30)
PROSE = st.text(st.characters(codec="utf-8", exclude_characters="`~"), max_size=300)


# --- markdown-shaped text -------------------------------------------------------------------


@st.composite
def fence(draw: st.DrawFn, number: int, closed: bool) -> tuple[str, list[str]]:
    """A fenced block whose lines carry a unique marker, so a test can find them in chunks."""
    marker = draw(st.sampled_from(["```", "~~~", "````"]))
    language = draw(st.sampled_from(["", "python", "toml", "console"]))
    lines = [
        f"@f{number}_l{index}; "
        + draw(
            st.sampled_from(["x = 1", "# Heading", "## Do", "| a |", "- item", "", "    indented"])
        )
        for index in range(draw(st.integers(1, 60)))
    ]
    closing = [marker] if closed else []
    return "\n".join([marker + language, *lines, *closing]), lines


def heading(draw: st.DrawFn) -> str:
    level = draw(st.integers(1, 6))
    title = draw(
        st.sampled_from(["Do", "Don't", "Why it matters", "Review checklist", "Related rules"])
    )
    return "#" * level + " " + draw(st.one_of(st.just(title), WORDS))


def table(draw: st.DrawFn) -> str:
    columns = draw(st.integers(1, 4))
    rows = [
        "| " + " | ".join(draw(WORDS) for _ in range(columns)) + " |"
        for _ in range(draw(st.integers(0, 5)))
    ]
    return "\n".join(["| " + " | ".join("h" * columns) + " |", "|" + "---|" * columns, *rows])


def bullet_list(draw: st.DrawFn) -> str:
    bullet = draw(st.sampled_from(["-", "*", "1.", "- [ ]"]))
    return "\n".join(f"{bullet} {draw(WORDS)}" for _ in range(draw(st.integers(1, 12))))


@st.composite
def markdown(draw: st.DrawFn, balanced: bool) -> tuple[str, list[list[str]]]:
    """A document of headings, paragraphs, tables, lists and fences; with `balanced` False, some
    fences are left open. Returns the text and the marked lines of each closed fence."""
    blocks: list[str] = []
    fences: list[list[str]] = []
    for number in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["heading", "paragraph", "table", "list", "fence"]))
        if kind == "fence":
            closed = balanced or draw(st.booleans())
            text, lines = draw(fence(number, closed))
            blocks.append(text)
            if closed:
                fences.append(lines)
        elif kind == "heading":
            blocks.append(heading(draw))
        elif kind == "table":
            blocks.append(table(draw))
        elif kind == "list":
            blocks.append(bullet_list(draw))
        else:
            blocks.append(draw(PROSE))
    # Blocks are apart, as CommonMark needs them to be unambiguous (a fence right under a table
    # row is a table row to markdown-it); line endings and odd line breaks vary.
    separator = draw(st.sampled_from(["\n\n", "\r\n\r\n", "\n\x0c\n", "\n\u2028\n"]))
    return separator.join(blocks), fences


# --- the chunker and the reference parser ---------------------------------------------------


@fuzz(500)
@given(source=st.sampled_from(SOURCES), text=st.text(max_size=2000))
def test_the_chunker_takes_any_text(catalogue: Catalogue, source: str, text: str) -> None:
    for chunk in chunk_file(source, text, catalogue):
        assert chunk.source == source
        assert chunk.line >= 1


@fuzz(200)
@given(source=st.sampled_from(SOURCES), document=markdown(balanced=True))
def test_the_chunker_never_splits_a_fenced_block(
    catalogue: Catalogue, source: str, document: tuple[str, list[list[str]]]
) -> None:
    text, fences = document
    chunks = chunk_file(source, text, catalogue)
    for lines in fences:
        markers = [line.split(";")[0] + ";" for line in lines]
        holding = [chunk for chunk in chunks if any(marker in chunk.text for marker in markers)]
        assert len(holding) <= 1, f"a fenced block was split over {len(holding)} chunks"
        assert all(marker in holding[0].text for marker in markers) if holding else True


@fuzz(200)
@given(source=st.sampled_from(SOURCES), document=markdown(balanced=False))
def test_the_chunker_takes_unbalanced_fences(
    catalogue: Catalogue, source: str, document: tuple[str, list[list[str]]]
) -> None:
    chunk_file(source, document[0], catalogue)


@fuzz(300)
@given(text=st.one_of(st.text(max_size=2000), markdown(balanced=False).map(lambda d: d[0])))
def test_the_reference_parser_takes_any_text(text: str) -> None:
    reference = parse_reference("timeouts", Path("references/rules/timeouts.md"), text)
    assert reference.rule_id == "timeouts"
    assert all(isinstance(item, str) for item in reference.checklist)


# --- bepro review ---------------------------------------------------------------------------


def assert_sound(result: ReviewResult, source: str | None) -> None:
    """A review either judges the file or reports why not: never both, never an exception."""
    for finding in result.findings:
        assert finding.line >= 1
        assert 1 <= finding.priority <= 8
    if source is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        assert [issue.kind for issue in result.issues] == ["parse-error"]
        assert result.findings == []


@fuzz(500)
@given(source=st.text(max_size=2000))
def test_review_takes_any_text(catalogue: Catalogue, source: str) -> None:
    result = review_source(source, "fuzzed.py", catalogue, ReviewOptions(use_ruff=False))
    assert_sound(result, source)


@fuzz(25)
@given(source=st.text(max_size=500))
def test_review_with_ruff_takes_any_text(catalogue: Catalogue, source: str) -> None:
    assert_sound(review_source(source, "fuzzed.py", catalogue), source)


@fuzz(150)
@given(data=st.binary(max_size=3000))
def test_review_takes_any_bytes_in_a_file(catalogue: Catalogue, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.py"
        path.write_bytes(data)
        result = review_files([path], catalogue, ReviewOptions(use_ruff=len(data) % 4 == 0))
    assert result.files == 1
    assert_sound(result, None)


@cache
def risky_statements() -> tuple[str, ...]:
    """Statements from the review eval corpus: the shapes the detectors look for."""
    found: list[str] = []
    for path in sorted((ROOT / "evals" / "review").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.stmt) and not isinstance(node, ast.ClassDef):
                segment = ast.get_source_segment(source, node)
                if segment and segment.count("\n") < 25:
                    found.append(textwrap.dedent(segment))
    return tuple(found)


WRAPPERS = (
    "def handler(request, *args, **kwargs):\n{body}",
    "async def handler(request):\n{body}",
    '@app.post("/items/{{item_id}}")\nasync def create(item_id: int, body: dict):\n{body}',
    "@retry(stop=stop_after_attempt(3))\ndef call():\n{body}",
    "class Service:\n    def run(self):\n{body2}",
    "for item in items:\n{body}",
    "while True:\n    try:\n{body2}\n    except Exception:\n        pass",
    "with open(path) as stream, lock:\n{body}",
    "async with session.begin():\n{body}",
    "if (found := cache.get(key)) is None:\n{body}",
    "try:\n{body}\nfinally:\n    log.info(f'{{user.password!r:>10}} {{token}}')",
    "match event:\n    case {{'type': 'paid', **rest}}:\n{body2}",
    "lambda_ = lambda: [x async for x in stream]\n{body0}",
)


@st.composite
def risky_python(draw: st.DrawFn, depth: int = 0) -> str:
    statements = risky_statements()
    parts = [draw(st.sampled_from(statements)) for _ in range(draw(st.integers(1, 4)))]
    if depth < 6 and draw(st.booleans()):
        parts.append(draw(risky_python(depth + 1)))
    body = "\n".join(parts)
    wrapper = draw(st.sampled_from(WRAPPERS))
    return wrapper.format(
        body=textwrap.indent(body, "    "),
        body2=textwrap.indent(body, "        "),
        body0=body,
    )


def parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@fuzz(400)
@given(source=risky_python())
def test_review_takes_risky_python(catalogue: Catalogue, source: str) -> None:
    assume(parses(source))
    options = ReviewOptions(use_ruff=len(source) % 8 == 0)  # ruff too, for a sample
    result = review_source(source, "risky.py", catalogue, options)
    assert result.issues == []
    assert_sound(result, source)


@fuzz(100)  # generating valid Python is the slow part: 150 took 6.7 s of the unit tier
@given(source=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()))
def test_review_takes_any_valid_python(catalogue: Catalogue, source: str) -> None:
    result = review_source(source, "generated.py", catalogue, ReviewOptions(use_ruff=False))
    assert_sound(result, source)


def test_deep_nesting_is_an_issue_not_a_crash(catalogue: Catalogue) -> None:
    source = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    result = review_source(source, "deep.py", catalogue, ReviewOptions(use_ruff=False))
    assert [issue.kind for issue in result.issues] == ["parse-error"]
    nested = "".join(f"{'    ' * level}if x:\n" for level in range(90)) + "    " * 90 + "pass\n"
    assert_sound(review_source(nested, "nested.py", catalogue, ReviewOptions()), nested)
