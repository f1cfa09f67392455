"""The fixes eval: how many findings `bepro fix` removes with validated rewrites on evals/fixes/.

A case is a folder of evals/fixes/ holding one or more modules with findings and a `check.py`
(a `check()` run as `python check.py`) that proves the code still behaves. Each case is copied to
a temporary folder and fixed there (nothing in evals/fixes changes), with `python check.py` as the
test command of every candidate, so a rewrite only counts when the check passes with it.

    run_fixes_eval(cases_dir, catalogue, proposer=None) -> FixesEvalReport

`proposer=None` measures the offline codemods alone; pass an LLM RewriteProposer to measure both.
Unsafe rewrites (`--unsafe-fixes`) run too unless `unsafe_fixes=False`: every rewrite must pass
the case's check either way.
On the report: `per_rule[rule_id]` and `per_code[source]` are RuleTallies (findings, fixed,
fixed_safe, rejected, skipped, reasons); `metrics()` gives {"fix_rate": fixed / findings,
"safe_fix_rate": fixed by safe rewrites / findings}; `counts()` the totals; `per_rule_figures()`
and `per_code_figures()` {key: {"findings", "fixed", "rejected", "skipped", "fix_rate"}} tables.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.fix.engine import FixRequest, run_fix
from bepro.fix.model import FIXED, FixOutcome, RewriteProposer
from bepro.fix.validate import Checks

CHECK_FILE = "check.py"
CHECK_TIMEOUT_S = 60.0


@dataclass
class RuleTally:
    findings: int = 0
    fixed: int = 0
    fixed_safe: int = 0  # by a rewrite that runs without --unsafe-fixes
    rejected: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    cases: set[str] = field(default_factory=set)  # the cases its findings came from

    @property
    def fix_rate(self) -> float:
        return self.fixed / self.findings if self.findings else 1.0

    def counts(self) -> dict[str, int]:
        return {
            "findings": self.findings,
            "fixed": self.fixed,
            "rejected": self.rejected,
            "skipped": self.skipped,
        }

    def add(self, case: str, outcome: FixOutcome) -> None:
        self.findings += 1
        self.cases.add(case)
        if outcome.status in FIXED:
            self.fixed += 1
            self.fixed_safe += outcome.safe
            return
        if outcome.status == "rejected":
            self.rejected += 1
        else:
            self.skipped += 1
        self.reasons.append(
            f"{case}/{Path(outcome.path).name}:{outcome.finding.line}: {outcome.reason}"
        )


@dataclass
class FixesEvalReport:
    per_rule: dict[str, RuleTally] = field(default_factory=dict)
    per_code: dict[str, RuleTally] = field(default_factory=dict)
    cases: int = 0

    @property
    def total(self) -> RuleTally:
        total = RuleTally()
        for tally in self.per_rule.values():
            total.findings += tally.findings
            total.fixed += tally.fixed
            total.fixed_safe += tally.fixed_safe
            total.rejected += tally.rejected
            total.skipped += tally.skipped
            total.reasons += tally.reasons
        return total

    def metrics(self) -> dict[str, float]:
        total = self.total
        safe_rate = total.fixed_safe / total.findings if total.findings else 1.0
        return {"fix_rate": round(total.fix_rate, 4), "safe_fix_rate": round(safe_rate, 4)}

    def counts(self) -> dict[str, int]:
        total = self.total
        return {"cases": self.cases, **total.counts()}

    def per_rule_figures(self) -> dict[str, dict[str, float]]:
        return _figures(self.per_rule)

    def per_code_figures(self) -> dict[str, dict[str, float]]:
        return _figures(self.per_code)


def _figures(tallies: dict[str, RuleTally]) -> dict[str, dict[str, float]]:
    return {
        key: {**tally.counts(), "cases": len(tally.cases), "fix_rate": round(tally.fix_rate, 4)}
        for key, tally in sorted(tallies.items())
    }


def case_dirs(cases_dir: Path) -> list[Path]:
    cases = sorted(path.parent for path in cases_dir.glob(f"*/{CHECK_FILE}"))
    if not cases:
        raise UsageError(
            f"no fix cases in {cases_dir}", f"each case is a folder with a {CHECK_FILE}"
        )
    return cases


def run_fixes_eval(
    cases_dir: Path,
    catalogue: Catalogue,
    proposer: RewriteProposer | None = None,
    unsafe_fixes: bool = True,
) -> FixesEvalReport:
    report = FixesEvalReport()
    for case in case_dirs(cases_dir):
        report.cases += 1
        for outcome in _fix_case(case, catalogue, proposer, unsafe_fixes):
            report.per_rule.setdefault(outcome.finding.rule_id, RuleTally()).add(case.name, outcome)
            report.per_code.setdefault(outcome.finding.source, RuleTally()).add(case.name, outcome)
    return report


def _fix_case(
    case: Path, catalogue: Catalogue, proposer: RewriteProposer | None, unsafe_fixes: bool
) -> list[FixOutcome]:
    with tempfile.TemporaryDirectory(prefix="bepro-fix-eval-") as scratch:
        work = Path(scratch) / case.name
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("__pycache__"))
        modules = sorted(path for path in work.glob("*.py") if path.name != CHECK_FILE)
        checks = Checks(catalogue, [sys.executable, CHECK_FILE], CHECK_TIMEOUT_S, work)
        undo = work / ".bepro" / "undo"
        request = FixRequest(
            modules, checks, proposer=proposer, undo_base=undo, unsafe_fixes=unsafe_fixes
        )
        return run_fix(request).outcomes
