"""Rules by example: the labelled real questions nearest in meaning to a question vote for the
rules a principal engineer reached for in them.

A reference passage and a question share topic words, which is how "a payments API" draws
`idempotency` into a question about what to measure; two questions that ask the same thing are
close in meaning whatever their nouns. The examples are the training half of
evals/questions-real.jsonl (questions people asked in public issue threads, labelled twice),
shipped as bepro/data/rule-examples.json (`python -m bepro.evals.actions` writes it). Their
vectors are built with the index, beside the item openings (openings.py), so a query embeds only
itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from bepro.retrieval.embed import Vectors
from bepro.retrieval.openings import vector_of

EXAMPLES_FILE = "rule-examples.json"


@dataclass(frozen=True)
class RuleExample:
    question: str
    rules: tuple[str, ...]  # the first is the one to reach for first


def examples_bytes() -> bytes:
    """The shipped examples file as stored: part of what decides whether the index is current."""
    return (resources.files("bepro") / "data" / EXAMPLES_FILE).read_bytes()


@cache
def rule_examples() -> tuple[RuleExample, ...]:
    payload = json.loads(examples_bytes())
    return tuple(
        RuleExample(str(row["question"]), tuple(str(rule) for rule in row["rules"]))
        for row in payload["examples"]
    )


def example_questions() -> list[str]:
    return [example.question for example in rule_examples()]


@cache
def _matrix() -> Vectors:
    """The examples' unit vectors, one row each (from the index, or embedded once)."""
    return np.stack([vector_of(question) for question in example_questions()])


def example_votes(
    asked: Vectors, neighbours: int, min_cosine: float, later_share: float
) -> dict[str, float]:
    """Each rule's share of the votes of the `neighbours` examples nearest to the question's
    unit vector `asked` (those at cosine >= min_cosine): an example gives its cosine to its
    first rule and later_share of it to each other one. Empty when no example is that close."""
    if not rule_examples():
        return {}
    cosines = _matrix() @ asked
    votes: dict[str, float] = {}
    for position in np.argsort(-cosines, kind="stable")[:neighbours]:
        cosine = float(cosines[position])
        if cosine < min_cosine:
            break
        for rank, rule_id in enumerate(rule_examples()[position].rules):
            votes[rule_id] = votes.get(rule_id, 0.0) + cosine * (1.0 if rank == 0 else later_share)
    total = sum(votes.values())
    return {rule_id: vote / total for rule_id, vote in votes.items()} if total else {}
