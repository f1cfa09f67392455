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
# "use", "request").
COMMON_SHARE = 0.2
# Words that are rare in the references only because their prose avoids them ("our", "will",
# "seen", "e.g."), which made them outweigh "fork" or "gunicorn" in a bug report. bm25s' English
# list has 33 words and few of these.
_FUNCTION_WORDS = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during e each eg etc
    few for from further g had has have having he her here hers him his how i ie if in into is it
    its itself just let like may me might more most much must my no nor not now of off on once
    only or other our ours out over own per please quite rather really same say says seen seem
    seems she should so some still such than that the their theirs them then there these they
    this those though through thus to too under until up upon us very via was we were what when
    where whether which while who whom whose why will with within without would yet you your
    yours issue issues problem problems question thanks hi hello"""
# Words real questions use whatever they ask about (in 490 of them, "use" in 231, "set" in 95,
# "instead" in 40), which drew Closest items on "set", "take" or "already" in an audit.
_QUESTION_WORDS = """
    use used uses using get gets getting got set sets need needs needed one current currently
    make makes making made way ways every possible possibly take takes taking took try tried
    trying tries want wants wanted see saw instead something don doesn didn isn re since follow
    follows following look looks looking two first keep keeps single already another think many
    case different based example true false work works worked working thing things going"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split()) | frozenset(_QUESTION_WORDS.split())


# "502s" are responses with status 502: split a number from the letters that follow it.
_NUMBER_SUFFIX = re.compile(r"(?<=\d)(?=[a-z])", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """Stemmed words, without single letters and numbers under 100: a question's "30" or "2" met
    the references' "30 s" timeouts and sizes in off-target Closest items of an audit, while
    "502" or "137" name what went wrong."""
    words = tokenize(_NUMBER_SUFFIX.sub(" ", text), stopwords=FUNCTION_WORDS)
    return frozenset(
        word for word in words if len(word) > 2 or (not word.isdigit() and len(word) > 1)
    )


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
        # fsum is exact, so the score does not depend on the set's (hash-seeded) iteration order.
        weights = self.weights
        return math.fsum(weights[word] for word in _block_words(block) & weights.keys())

    def closest(self, blocks: Sequence[Block], count: int) -> list[Block]:
        """The `count` list items closest to the question, closest first (ties keep their order)."""
        items = [block for block in blocks if block.kind == "item"]
        ranked = sorted(enumerate(items), key=lambda pair: (-self.score(pair[1]), pair[0]))
        return [item for _, item in ranked[:count]]
