"""The retrieval eval: recall@k, MRR, priority-weighted recall and abstention on evals/retrieval.jsonl."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.retrieval.search import Retriever

KS = (1, 3, 5)


class RetrievalCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str = Field(min_length=1)
    action: str
    expected: list[str]
    abstain: bool = False


@dataclass
class CategoryScore:
    cases: int = 0
    hits_at_3: int = 0

    @property
    def recall_at_3(self) -> float:
        return self.hits_at_3 / self.cases if self.cases else 0.0


@dataclass
class RetrievalReport:
    cases: int
    recall: dict[int, float]
    mrr: float
    weighted_recall_at_3: float
    abstention_accuracy: float
    false_abstentions: int
    per_category: dict[str, CategoryScore] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr": round(self.mrr, 4),
            "weighted_recall@3": round(self.weighted_recall_at_3, 4),
            "abstention_accuracy": round(self.abstention_accuracy, 4),
            "false_abstentions": self.false_abstentions,
            "per_category": {
                name: {"cases": s.cases, "recall@3": round(s.recall_at_3, 4)}
                for name, s in self.per_category.items()
            },
        }


def load_cases(path: Path, catalogue: Catalogue) -> list[RetrievalCase]:
    """Parse and check the dataset; a bad line fails with the file, line and problem."""
    cases: list[RetrievalCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = RetrievalCase.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise UsageError(f"{path}:{number}: malformed case: {exc}".splitlines()[0]) from exc
        unknown = [rule_id for rule_id in case.expected if catalogue.rule(rule_id) is None]
        if unknown:
            raise UsageError(f"{path}:{number}: unknown rule id {unknown[0]!r}")
        if catalogue.action(case.action) is None:
            raise UsageError(f"{path}:{number}: unknown action {case.action!r}")
        if case.abstain == bool(case.expected):
            raise UsageError(f"{path}:{number}: a case either expects rules or abstains")
        cases.append(case)
    return cases


def run_retrieval_eval(
    cases: list[RetrievalCase], retriever: Retriever, catalogue: Catalogue
) -> RetrievalReport:
    hits = dict.fromkeys(KS, 0)
    reciprocal = 0.0
    weighted_hit = weighted_total = 0.0
    abstain_right = abstain_total = false_abstentions = 0
    per_category: dict[str, CategoryScore] = {
        cat.name: CategoryScore() for cat in catalogue.categories
    }
    misses: list[str] = []
    answered = [case for case in cases if not case.abstain]
    for case in cases:
        ranking = retriever.rank_rules(case.question, action=case.action, top_k=max(KS))
        if case.abstain:
            abstain_total += 1
            abstain_right += ranking.abstained
            continue
        false_abstentions += ranking.abstained
        ranked = [hit.rule_id for hit in ranking.rules]
        rank = next((i for i, rule_id in enumerate(ranked, 1) if rule_id in case.expected), None)
        for k in KS:
            hits[k] += rank is not None and rank <= k
        reciprocal += 1.0 / rank if rank else 0.0
        first = catalogue.rule(case.expected[0])
        assert first is not None  # noqa: S101 - load_cases checked every id
        weight = 9 - first.priority
        weighted_total += weight
        hit_at_3 = rank is not None and rank <= 3
        weighted_hit += weight * hit_at_3
        score = per_category[first.category]
        score.cases += 1
        score.hits_at_3 += hit_at_3
        if not hit_at_3:
            misses.append(f"{case.id}: expected {case.expected}, got {ranked[:3]}")
    total = len(answered) or 1
    return RetrievalReport(
        cases=len(cases),
        recall={k: hits[k] / total for k in KS},
        mrr=reciprocal / total,
        weighted_recall_at_3=weighted_hit / weighted_total if weighted_total else 0.0,
        abstention_accuracy=abstain_right / abstain_total if abstain_total else 1.0,
        false_abstentions=false_abstentions,
        per_category=per_category,
        misses=misses,
    )
