"""Scoring helpers shared by the eval suites: priority weights, weighted recall, rank correlation.

Missing a priority-1 rule costs 8 times what missing a priority-8 rule costs: a rule weighs
`9 - priority`. Ordering is Kendall's tau between the order rules appear in and their priority
order, over pairs of different priority: +1 when higher-priority rules always come first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bepro.catalogue.model import Catalogue

LOWEST_PRIORITY = 8


def priority_weight(rule_id: str, catalogue: Catalogue) -> int:
    """9 - priority: 8 for a priority-1 rule, 1 for a priority-8 rule."""
    rule = catalogue.rule(rule_id)
    if rule is None:
        raise KeyError(rule_id)  # datasets are checked against the catalogue before scoring
    return LOWEST_PRIORITY + 1 - rule.priority


def weighted_share(items: Iterable[tuple[float, bool]]) -> float | None:
    """The weighted share of hits among (weight, hit) pairs; None when there is nothing to weigh."""
    total = hit = 0.0
    for weight, found in items:
        total += weight
        hit += weight if found else 0.0
    return hit / total if total else None


def weighted_recall(expected: Iterable[str], found: set[str], catalogue: Catalogue) -> float | None:
    """Recall over expected rule ids, each weighted by its priority."""
    return weighted_share(
        (priority_weight(rule_id, catalogue), rule_id in found) for rule_id in expected
    )


def priority_order_tau(rule_ids: Sequence[str], catalogue: Catalogue) -> float | None:
    """Kendall's tau between the given order and priority order, over the pairs of rules whose
    priorities differ (Goodman-Kruskal gamma): +1 when every higher-priority rule comes before
    every lower-priority one, -1 when always after; None when no two priorities differ.

    Pairs of equal priority are left out, so rules that share a category may come in any order.
    """
    priorities = [
        rule.priority
        for rule in (catalogue.rule(rule_id) for rule_id in dict.fromkeys(rule_ids))
        if rule is not None
    ]
    concordant = discordant = 0
    for i, earlier in enumerate(priorities):
        for later in priorities[i + 1 :]:
            concordant += earlier < later
            discordant += earlier > later
    pairs = concordant + discordant
    return (concordant - discordant) / pairs if pairs else None


def ndcg(ranked: Sequence[str], gains: dict[str, float], k: int) -> float:
    """Normalised discounted cumulative gain of the top k (distinct ids, linear gains)."""
    top = list(dict.fromkeys(ranked))[:k]
    dcg = sum(gains.get(item, 0.0) / math.log2(rank + 1) for rank, item in enumerate(top, 1))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, 1))
    return dcg / idcg if idcg else 0.0


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the defined values; None when none is defined."""
    defined = [value for value in values if value is not None]
    return sum(defined) / len(defined) if defined else None


def f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0
