"""The README's two commands are the ones CI runs, so a new user gets what CI checked."""

from __future__ import annotations

import re

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.retrieval.search import Retriever

from .conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_opens_with_install_and_test_commands() -> None:
    install, test = _readme_commands()
    assert "pip install" in install
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in _readme_commands():
        assert command in ci, f"README command not run by CI: {command}"


def test_the_gallery_shows_one_current_answer_per_action(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """Each action's answer in the README has the shape bepro gives it today."""
    from bepro import Pack

    from .readme_gallery import ENTRIES, answer, readme_answers, shape

    shown = readme_answers((ROOT / "README.md").read_text(encoding="utf-8"))
    assert list(shown) == list(catalogue.action_names), "one answer per action, in SKILL.md order"
    pack = Pack(paths, catalogue, retriever=retriever)
    for entry in ENTRIES:
        assert shape(shown[entry.action]) == shape(answer(pack, entry)), (
            f"the README's {entry.action} answer is stale: python -m tests.readme_gallery --write"
        )


def test_the_count_of_rewrites_is_the_table_of_rewrites() -> None:
    """The Fixing code section counts the rewrites `bepro fix` has: REWRITES, not a memory."""
    from bepro.review.registry import REWRITES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"rewrite (\d+) detector codes \((\d+) safe, (\d+) unsafe\)", text)
    assert found is not None
    safe = sum(1 for rewrite in REWRITES.values() if rewrite.safe)
    counts = (len(REWRITES), safe, len(REWRITES) - safe)
    assert tuple(int(number) for number in found.groups()) == counts
