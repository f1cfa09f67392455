"""What `bepro fix` works with: candidate rewrites, their outcomes, and the seam for LLM rewrites.

Code under review is data: a proposer receives the file as text and returns search/replace blocks
for that one file; nothing in the file's comments or strings is ever executed or obeyed by bepro.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bepro.review.finding import Finding

# applied: written to disk; proposed: validated and shown as a diff; rejected: a candidate failed
# validation (the reason says which check); skipped: no rewrite was available for the finding.
FixStatus = Literal["applied", "proposed", "rejected", "skipped"]
FIXED: tuple[FixStatus, ...] = ("applied", "proposed")


@dataclass(frozen=True)
class SearchReplace:
    """Replace the one exact occurrence of `search` in the file with `replace`."""

    search: str
    replace: str


class RewriteProposer(Protocol):
    """Proposes a rewrite for one finding (an LLM behind it). `guidance` is the rule's advice."""

    def propose(self, source: str, finding: Finding, guidance: str) -> list[SearchReplace]: ...


class RewriteRejectedError(Exception):
    """A candidate cannot be built or fails a check; the message is the reason users read."""


@dataclass(frozen=True)
class Candidate:
    """A whole-file rewrite aimed at one finding; `origin` is `codemod:<name>` or `llm`.
    `safe` False: the rewrite changes behaviour a reviewer must see (--unsafe-fixes)."""

    origin: str
    source: str
    safe: bool = True


@dataclass(frozen=True)
class FixOutcome:
    path: str
    finding: Finding
    status: FixStatus
    reason: str
    origin: str = ""
    diff: str = ""
    safe: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "rule_id": self.finding.rule_id,
            "line": self.finding.line,
            "source": self.finding.source,
            "status": self.status,
            "origin": self.origin,
            "reason": self.reason,
            "diff": self.diff,
            "safe": self.safe,
        }
