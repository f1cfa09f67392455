"""Which items of a reference come closest to what the question describes.

An item's relevance is the weight of the question's words it contains, each word weighted by how
rare it is among the blocks of the references the answer draws on (BM25's idf): "gunicorn" or
"SIGTERM" picks out the items about them, "request" or "service" picks out nothing. Words are
stemmed as the keyword index stems them, so "rollouts" meets "rollout".

On 83 (question, rule) pairs of real questions where a labeller found a rule's symptom that
describes the question, that symptom was among the 3 closest for 0.85 (dev) and 0.91 (held-out)
of them, against about 0.38 by chance; as the single closest, for 0.57 and 0.63. Good enough to order
a rule's symptoms, not to claim one is the user's (bench/symptom_ranking.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bepro.knowledge.references import RuleReference
from bepro.mdparse import Block
from bepro.retrieval.keyword import tokenize

# A word in more than this share of the blocks says nothing about which block is meant ("the",
# "use", "request"): stop words fall out this way, so a query never loads bm25s' list of them.
COMMON_SHARE = 0.2


# "502s" are responses with status 502: split a number from the letters that follow it.
_NUMBER_SUFFIX = re.compile(r"(?<=\d)(?=[a-z])", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(tokenize(_NUMBER_SUFFIX.sub(" ", text), stopwords=frozenset()))


def _block_words(block: Block) -> frozenset[str]:
    return _words("\n".join(block.lines))


@dataclass(frozen=True)
class Relevance:
    """The question's words, each with its weight among the answer's reference blocks."""

    weights: dict[str, float]

    @classmethod
    def of(cls, question: str, references: Iterable[RuleReference]) -> Relevance:
        documents = [
            _block_words(block)
            for reference in references
            for section in reference.blocks.values()
            for block in section
        ]
        asked = _words(question)
        frequency = Counter(word for words in documents for word in words & asked)
        total = len(documents)
        return cls(
            {
                word: math.log(1 + (total - count + 0.5) / (count + 0.5))
                for word, count in frequency.items()
                if count <= COMMON_SHARE * total
            }
        )

    def score(self, block: Block) -> float:
        """The weight of the question's words that the block contains."""
        return sum(self.weights.get(word, 0.0) for word in _block_words(block))

    def closest(self, blocks: Sequence[Block], count: int) -> list[Block]:
        """The `count` list items closest to the question, closest first (ties keep their order)."""
        items = [block for block in blocks if block.kind == "item"]
        ranked = sorted(enumerate(items), key=lambda pair: (-self.score(pair[1]), pair[0]))
        return [item for _, item in ranked[:count]]
