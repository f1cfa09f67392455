"""The retrieval eval: recall@k, MRR, nDCG@3, priority-weighted recall, priority order and
abstention on evals/retrieval.jsonl.

nDCG@3 grades the expected ids by their order in the case (the first one gains most). The
priority order figure is the mean Kendall tau (see scoring.py) between the top 3 and priority
order: informational, since retrieval ranks by relevance and `bepro ask` re-sorts by priority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.evals.datasets import check_action, check_rule_ids, read_jsonl
from bepro.evals.scoring import mean, ndcg, priority_order_tau, priority_weight, weighted_share
from bepro.retrieval.search import Retriever

KS = (1, 3, 5)
NDCG_K = 3


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
    hits_at_1: int = 0
    hits_at_3: int = 0
    reciprocal: float = 0.0
    ndcg_at_3: float = 0.0

    @property
    def recall_at_3(self) -> float:
        return self.hits_at_3 / self.cases if self.cases else 0.0

    def as_dict(self) -> dict[str, float]:
        cases = self.cases or 1
        return {
            "cases": self.cases,
            "recall@1": round(self.hits_at_1 / cases, 4),
            "recall@3": round(self.recall_at_3, 4),
            "mrr": round(self.reciprocal / cases, 4),
            "ndcg@3": round(self.ndcg_at_3 / cases, 4),
        }


@dataclass
class RetrievalReport:
    cases: int
    recall: dict[int, float]
    mrr: float
    ndcg_at_3: float
    weighted_recall_at_3: float
    priority_order_tau: float | None
    abstention_accuracy: float
    false_abstentions: int
    per_category: dict[str, CategoryScore] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr": round(self.mrr, 4),
            "ndcg@3": round(self.ndcg_at_3, 4),
            "weighted_recall@3": round(self.weighted_recall_at_3, 4),
            "priority_order_tau": _rounded(self.priority_order_tau),
            "abstention_accuracy": round(self.abstention_accuracy, 4),
            "false_abstentions": self.false_abstentions,
            "per_category": {
                name: score.as_dict() for name, score in self.per_category.items() if score.cases
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def load_cases(path: Path, catalogue: Catalogue) -> list[RetrievalCase]:
    """Parse and check the dataset; a bad line fails with the file, line and problem."""
    cases: list[RetrievalCase] = []
    for number, case in read_jsonl(path, RetrievalCase):
        check_rule_ids(path, number, case.expected, catalogue)
        check_action(path, number, case.action, catalogue)
        if case.abstain == bool(case.expected):
            raise UsageError(f"{path}:{number}: a case either expects rules or abstains")
        cases.append(case)
    return cases


def run_retrieval_eval(
    cases: list[RetrievalCase], retriever: Retriever, catalogue: Catalogue
) -> RetrievalReport:
    hits = dict.fromkeys(KS, 0)
    reciprocal = ndcg_total = 0.0
    weighted: list[tuple[float, bool]] = []
    taus: list[float | None] = []
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
        ranked = list(dict.fromkeys(hit.rule_id for hit in ranking.rules))
        rank = next((i for i, rule_id in enumerate(ranked, 1) if rule_id in case.expected), None)
        for k in KS:
            hits[k] += rank is not None and rank <= k
        gains = {rule_id: float(len(case.expected) - i) for i, rule_id in enumerate(case.expected)}
        case_ndcg = ndcg(ranked, gains, NDCG_K)
        ndcg_total += case_ndcg
        reciprocal += 1.0 / rank if rank else 0.0
        taus.append(priority_order_tau(ranked[:NDCG_K], catalogue))
        hit_at_3 = rank is not None and rank <= 3
        weighted.append((priority_weight(case.expected[0], catalogue), hit_at_3))
        score = per_category[_category_of(case.expected[0], catalogue)]
        score.cases += 1
        score.hits_at_1 += rank == 1
        score.hits_at_3 += hit_at_3
        score.reciprocal += 1.0 / rank if rank else 0.0
        score.ndcg_at_3 += case_ndcg
        if not hit_at_3:
            misses.append(f"{case.id}: expected {case.expected}, got {ranked[:3]}")
    total = len(answered) or 1
    return RetrievalReport(
        cases=len(cases),
        recall={k: hits[k] / total for k in KS},
        mrr=reciprocal / total,
        ndcg_at_3=ndcg_total / total,
        weighted_recall_at_3=weighted_share(weighted) or 0.0,
        priority_order_tau=mean(taus),
        abstention_accuracy=abstain_right / abstain_total if abstain_total else 1.0,
        false_abstentions=false_abstentions,
        per_category=per_category,
        misses=misses,
    )


def _category_of(rule_id: str, catalogue: Catalogue) -> str:
    rule = catalogue.rule(rule_id)
    if rule is None:
        raise KeyError(rule_id)  # load_cases checked every id
    return rule.category
