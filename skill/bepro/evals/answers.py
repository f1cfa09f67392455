"""The answers eval: a deterministic rubric for answers to evals/answers.jsonl.

A case is {"id", "question", "action", "must_cite": [rule ids], "points": [phrases],
"must_not": [phrases]}. Each answer is scored on four things:

- must-cite recall: a rule is cited when `[rule-id]` appears in the answer (SKILL.md's citation
  form); recall is weighted by priority (a rule weighs 9 - priority).
- ordering: Kendall's tau between the order of first citations and priority order, over pairs of
  different priority (+1 when higher-priority rules come first); undefined without such a pair.
- points: a point is a short phrase, with alternatives separated by " | ". It is made when, for
  one alternative, every content word (stop words dropped, Snowball-stemmed, as the keyword index
  does) occurs within a window of POINT_WINDOW consecutive words of the answer, code included.
- forbidden advice: a `must_not` phrase (alternatives with " | ") is given when one sentence or
  line holds its words in sequence (all words kept, Snowball-stemmed) and no negation cue
  ("never", "don't", "avoid", ...) other than words of the phrase itself. Write them as the bad
  advice would be worded ("retry until it succeeds", "verify=False").

The rubric score of a case is 0 when it gives forbidden advice; otherwise the mean of the weighted
must-cite recall, the share of points made, and the ordering mapped to [0, 1] when it is defined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.evals.datasets import check_action, check_rule_ids, read_jsonl
from bepro.evals.scoring import (
    mean,
    priority_order_tau,
    priority_weight,
    weighted_recall,
    weighted_share,
)
from bepro.retrieval.keyword import tokenize

POINT_WINDOW = 40
ALTERNATIVES = " | "
_CITATION = re.compile(r"\[([a-z0-9-]+)\]")
_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")
_NEGATIONS = frozenset(
    {"never", "not", "no", "don't", "doesn't", "isn't", "can't", "cannot", "won't", "shouldn't"}
    | {"avoid", "without", "instead", "rather", "stop", "forbid", "reject", "ban"}
)


class AnswerCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    action: str
    must_cite: list[str] = Field(min_length=1)
    points: list[str] = Field(min_length=1)
    must_not: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """What a suite scores: the answer's text (markdown) and whether the engine abstained."""

    text: str
    abstained: bool = False


@dataclass(frozen=True)
class CaseScore:
    case: AnswerCase
    cited: list[str]
    must_cite_recall: float
    weighted_must_cite_recall: float
    ordering_tau: float | None
    points_made: list[str]
    forbidden_given: list[str]
    abstained: bool

    @property
    def points_coverage(self) -> float:
        return len(self.points_made) / len(self.case.points)

    @property
    def rubric(self) -> float:
        if self.forbidden_given:
            return 0.0
        ordering = None if self.ordering_tau is None else (self.ordering_tau + 1) / 2
        parts = (self.weighted_must_cite_recall, self.points_coverage, ordering)
        return mean(parts) or 0.0


@dataclass
class AnswersReport:
    scores: list[CaseScore] = field(default_factory=list)
    category_of: dict[str, str] = field(default_factory=dict)

    def metrics(self, catalogue: Catalogue) -> dict[str, float]:
        return {k: v for k, v in _summary(self.scores, catalogue).items() if k != "cases"}

    def counts(self) -> dict[str, int]:
        return {
            "cases": len(self.scores),
            "abstained": sum(score.abstained for score in self.scores),
            "gave_forbidden_advice": sum(bool(score.forbidden_given) for score in self.scores),
        }

    def per_category(self, catalogue: Catalogue) -> dict[str, dict[str, float]]:
        rows: dict[str, dict[str, float]] = {}
        for category in catalogue.categories:
            members = [s for s in self.scores if self.category_of[s.case.id] == category.name]
            if members:  # the unweighted cite recall stays suite-wide, to keep the table narrow
                row = _summary(members, catalogue)
                rows[category.name] = {k: v for k, v in row.items() if k != "cite_recall"}
        return rows

    def notes(self) -> list[str]:
        notes: list[str] = []
        for score in self.scores:
            missing_cites = [r for r in score.case.must_cite if r not in score.cited]
            missing_points = [p for p in score.case.points if p not in score.points_made]
            if score.abstained:
                notes.append(f"{score.case.id}: abstained")
            if missing_cites:
                notes.append(f"{score.case.id}: did not cite {missing_cites}")
            if missing_points:
                notes.append(f"{score.case.id}: missed points {missing_points}")
            if score.forbidden_given:
                notes.append(f"{score.case.id}: gave forbidden advice {score.forbidden_given}")
        return notes


def load_answer_cases(path: Path, catalogue: Catalogue) -> list[AnswerCase]:
    """Parse and check the dataset; a bad line fails with the file, line and problem."""
    cases: list[AnswerCase] = []
    for number, case in read_jsonl(path, AnswerCase):
        check_rule_ids(path, number, case.must_cite, catalogue)
        check_action(path, number, case.action, catalogue)
        for point in case.points:
            if not all(_content_words(alt) for alt in point.split(ALTERNATIVES)):
                raise UsageError(f"{path}:{number}: point {point!r} has no content words")
        for phrase in case.must_not:
            if not all(_stems(alt) for alt in phrase.split(ALTERNATIVES)):
                raise UsageError(f"{path}:{number}: must_not {phrase!r} has no words")
        cases.append(case)
    return cases


def run_answers_eval(
    cases: Sequence[AnswerCase], answer: Callable[[AnswerCase], Answer], catalogue: Catalogue
) -> AnswersReport:
    """Score each case's answer; `answer` is the engine under test (offline today)."""
    report = AnswersReport()
    for case in cases:
        report.scores.append(score_answer(case, answer(case), catalogue))
        first = catalogue.rule(case.must_cite[0])
        report.category_of[case.id] = first.category if first else ""
    return report


def score_answer(case: AnswerCase, answer: Answer, catalogue: Catalogue) -> CaseScore:
    cited = cited_rules(answer.text, catalogue)
    words = tokenize(answer.text)
    cited_set = set(cited)
    hits = [rule_id in cited_set for rule_id in case.must_cite]
    return CaseScore(
        case=case,
        cited=cited,
        must_cite_recall=sum(hits) / len(hits),
        weighted_must_cite_recall=weighted_recall(case.must_cite, cited_set, catalogue) or 0.0,
        ordering_tau=priority_order_tau(cited, catalogue),
        points_made=[point for point in case.points if point_made(point, words)],
        forbidden_given=[phrase for phrase in case.must_not if advice_given(phrase, answer.text)],
        abstained=answer.abstained,
    )


def cited_rules(text: str, catalogue: Catalogue) -> list[str]:
    """Catalogue rule ids cited as `[rule-id]`, in order of first citation."""
    found = (match[1] for match in _CITATION.finditer(text))
    return [rule_id for rule_id in dict.fromkeys(found) if catalogue.rule(rule_id) is not None]


def point_made(point: str, words: list[str]) -> bool:
    """`words` is the answer tokenized as the keyword index does."""
    return any(_within_window(_content_words(alt), words) for alt in point.split(ALTERNATIVES))


def advice_given(phrase: str, text: str) -> bool:
    alternatives = [
        (f" {' '.join(_stems(alt))} ", _NEGATIONS - set(_WORD.findall(alt.lower())))
        for alt in phrase.split(ALTERNATIVES)
    ]
    for sentence in _SENTENCE_END.split(text):
        joined = f" {' '.join(_stems(sentence))} "
        words = set(_WORD.findall(sentence.lower()))
        if any(wanted in joined and not cues & words for wanted, cues in alternatives):
            return True
    return False


def _stems(text: str) -> list[str]:
    return list(_stemmer().stemWords(_WORD.findall(text.lower())))


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _content_words(phrase: str) -> frozenset[str]:
    return frozenset(tokenize(phrase))


def _within_window(wanted: frozenset[str], words: list[str]) -> bool:
    """True when every wanted stem occurs inside some run of POINT_WINDOW consecutive words."""
    if not wanted:
        return False
    last_seen: dict[str, int] = {}
    for position, word in enumerate(words):
        if word in wanted:
            last_seen[word] = position
            if len(last_seen) == len(wanted) and position - min(last_seen.values()) < POINT_WINDOW:
                return True
    return False


def _summary(scores: Sequence[CaseScore], catalogue: Catalogue) -> dict[str, float]:
    pairs = [
        (float(priority_weight(rule_id, catalogue)), rule_id in score.cited)
        for score in scores
        for rule_id in score.case.must_cite
    ]
    points_total = sum(len(score.case.points) for score in scores)
    summary = {
        "cases": len(scores),
        "rubric": _mean0(score.rubric for score in scores),
        "cite_recall": _mean0(score.must_cite_recall for score in scores),
        "weighted_cite_recall": weighted_share(pairs) or 0.0,
        "points_made": sum(len(s.points_made) for s in scores) / (points_total or 1),
        "forbidden_free": _mean0(0.0 if s.forbidden_given else 1.0 for s in scores),
    }
    tau = mean(score.ordering_tau for score in scores)
    if tau is not None:
        summary["ordering_tau"] = tau
    return {name: round(value, 4) for name, value in summary.items()}


def _mean0(values: Iterable[float]) -> float:
    return mean(values) or 0.0
