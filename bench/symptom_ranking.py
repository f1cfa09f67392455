"""How well a debug answer orders a rule's symptoms for the question asked.

evals/symptoms-real.jsonl: for real questions (evals/questions-real.jsonl) and the rules `bepro
ask` chose for them, the symptoms of each rule's reference that a labeller found to describe the
question ("**symptom:** cause; remedy" items, by their text). For each pair, this prints whether
a matching symptom is the closest one (top 1) and among the 3 closest (top 3) as
bepro.agent.relevance orders them, per half, next to chance.

python bench/symptom_ranking.py
"""

from __future__ import annotations

import json
from collections import defaultdict

from bepro.agent.ask import AskRequest, retrieve
from bepro.agent.relevance import Relevance
from bepro.catalogue.load import load_catalogue
from bepro.config import resolve_paths
from bepro.evals.actions import half_of
from bepro.knowledge.references import load_reference
from bepro.retrieval.search import Retriever, SilentReporter

SYMPTOMS = "Symptoms and situations"


def main() -> None:
    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    retriever = Retriever(paths, catalogue, SilentReporter())
    rows = [
        json.loads(line)
        for line in (paths.root / "evals" / "symptoms-real.jsonl").read_text().splitlines()
        if line
    ]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for row in rows:
        chosen = retrieve(AskRequest(row["question"]), catalogue, paths, retriever=retriever).chosen
        references = {rule: load_reference(paths.root, rule) for rule in {*chosen, row["rule"]}}
        relevance = Relevance.of(row["question"], [r for r in references.values() if r])
        reference = references[row["rule"]]
        if reference is None:
            raise SystemExit(f"no reference for {row['rule']}")
        items = [b for b in reference.blocks.get(SYMPTOMS, ()) if b.kind == "item"]
        ranked = [item.lead for item in relevance.closest(items, 3)]
        wanted = set(row["symptoms"])
        total = totals[half_of(row["question"])]
        total[0] += 1
        total[1] += ranked[0] in wanted
        total[2] += bool(wanted & set(ranked))
        total[3] += min(1.0, 3 * len(wanted) / len(items))  # chance of one in 3 random picks
    print(f"{'half':<10}{'pairs':>6}{'top1':>8}{'top3':>8}{'chance3':>9}")
    for half, (count, top1, top3, chance) in sorted(totals.items()):
        print(f"{half:<10}{count:>6}{top1 / count:>8.2f}{top3 / count:>8.2f}{chance / count:>9.2f}")


if __name__ == "__main__":
    main()
