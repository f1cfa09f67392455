"""bepro reviews itself: nothing at priority 1-4 (correctness to performance) in its own code."""

from __future__ import annotations

from .conftest import invoke_bepro


def test_bepro_review_of_its_own_code_finds_nothing_at_priority_1_to_4() -> None:
    result = invoke_bepro("review", "skill", "--fail-on", "4", "--min-priority", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("0 findings"), result.stdout
