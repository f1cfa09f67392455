"""Fixing code given as text (ask, MCP, HTTP, the Python API): the code is written to a private
temporary folder, fixed there by the same engine and checks as files on disk, and the report
names the file as the caller did, never the temporary folder. Nothing the caller owns is written."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.fix.engine import FixReport, FixRequest, run_fix
from bepro.fix.model import RewriteProposer
from bepro.fix.target import oldest_python
from bepro.fix.validate import TEST_TIMEOUT_S, Checks
from bepro.review.engine import ReviewOptions

DEFAULT_NAME = "snippet.py"


def fix_snippet(
    code: str,
    filename: str,
    catalogue: Catalogue,
    *,
    rules: frozenset[str] = frozenset(),
    proposer: RewriteProposer | None = None,
    pack_root: Path | None = None,
    test_command: Sequence[str] = (),
    test_timeout: float = TEST_TIMEOUT_S,
    cwd: Path | None = None,
    review_options: ReviewOptions | None = None,
    unsafe_fixes: bool = False,
) -> FixReport:
    """Validated rewrites for the code's findings (of `rules` only, when given), as diffs of a
    file named like `filename` (its last part). `review_options` None: what `bepro fix` checks."""
    name = Path(filename).name or DEFAULT_NAME
    oldest = oldest_python(filename)  # the project the code comes from, where there is one
    with tempfile.TemporaryDirectory(prefix="bepro-fix-") as folder:
        snippet = Path(folder) / name
        snippet.write_text(code, encoding="utf-8")
        if oldest is not None:  # rewrites must run on the project's oldest Python there too
            requires = f'[project]\nrequires-python = ">={oldest[0]}.{oldest[1]}"\n'
            (Path(folder) / "pyproject.toml").write_text(requires, encoding="utf-8")
        checks = Checks(
            catalogue, list(test_command), test_timeout, cwd or Path(folder), review_options
        )
        undo = Path(folder) / "undo"
        request = FixRequest(
            [snippet], checks, rules, False, proposer, pack_root, undo, unsafe_fixes
        )
        return _without_folder(run_fix(request), f"{folder}/")


def _without_folder(report: FixReport, prefix: str) -> FixReport:
    """The report of a fix made in a temporary folder, as if the file had no folder."""

    def clean(text: str) -> str:
        # a diff names the file `a/<absolute path>`: keep its `a/` and `b/`
        for side in ("a", "b"):
            text = text.replace(f"{side}{prefix}", f"{side}/")
        return text.replace(prefix, "")

    return dataclasses.replace(
        report,
        outcomes=[
            dataclasses.replace(o, path=clean(o.path), diff=clean(o.diff)) for o in report.outcomes
        ],
        diffs={clean(path): clean(diff) for path, diff in report.diffs.items()},
        refused=[clean(line) for line in report.refused],
        issues=[clean(line) for line in report.issues],
        undo_folder=None,
    )
