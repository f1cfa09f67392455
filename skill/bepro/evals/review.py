"""The review eval: per-rule and per-detector precision and recall on evals/review/**/*.py.

A case file marks each offending line with `# expect: <rule-id>` (several ids separated by commas).
A finding is a true positive when its rule is expected on its line; clean look-alikes carry no
annotation, so any finding on them is a false positive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.review.engine import ReviewOptions, review_files
from bepro.review.registry import code_table

_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9,\s-]+)")


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass
class ReviewEvalReport:
    per_rule: dict[str, Tally] = field(default_factory=dict)
    per_source: dict[str, Tally] = field(default_factory=dict)
    false_positives: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    files: int = 0
    # Per file, the rule ids of its findings in the order the review reports them.
    orders: dict[str, list[str]] = field(default_factory=dict)


def expectations(path: Path, catalogue: Catalogue) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match is None:
            continue
        for rule_id in (part.strip() for part in match[1].split(",")):
            if rule_id and catalogue.rule(rule_id) is None:
                raise UsageError(f"{path}:{number}: unknown rule id {rule_id!r} in '# expect:'")
            if rule_id:
                found.add((number, rule_id))
    return found


def run_review_eval(cases_dir: Path, catalogue: Catalogue) -> ReviewEvalReport:
    files = sorted(cases_dir.rglob("*.py"))
    report = ReviewEvalReport(files=len(files))
    # Every case is service code, whatever its file is called; every code is on, preview ones
    # included: the suite measures what the detectors can find, not the default selection.
    options = ReviewOptions(enabled=frozenset(code_table()), role_overrides={"*": "production"})
    result = review_files(files, catalogue, options)
    found_by_file: dict[str, set[tuple[int, str, str]]] = {}
    for finding in result.findings:
        report.orders.setdefault(finding.path, []).append(finding.rule_id)
        found_by_file.setdefault(finding.path, set()).add(
            (finding.line, finding.rule_id, finding.source)
        )
    for path in files:
        expected = expectations(path, catalogue)
        found = found_by_file.get(str(path), set())
        matched: set[tuple[int, str]] = set()
        for line, rule_id, source in sorted(found):
            rule_tally = report.per_rule.setdefault(rule_id, Tally())
            source_tally = report.per_source.setdefault(source, Tally())
            if (line, rule_id) in expected:
                matched.add((line, rule_id))
                source_tally.true_positives += 1
            else:
                rule_tally.false_positives += 1
                source_tally.false_positives += 1
                report.false_positives.append(f"{path}:{line}: {rule_id} ({source})")
        for line, rule_id in sorted(expected):
            tally = report.per_rule.setdefault(rule_id, Tally())
            if (line, rule_id) in matched:
                tally.true_positives += 1
            else:
                tally.false_negatives += 1
                report.misses.append(f"{path}:{line}: {rule_id}")
    return report
