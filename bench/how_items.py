"""Whether an offline answer shows the How items a labeller picked for real questions.

evals/how-items-real.jsonl: for real questions (evals/questions-real.jsonl, a seeded sample of
50 per half) and one rule `bepro ask` chose for each, the items of the rule's "How to apply it
in Python" section that a labeller picked as the ones this asker should read first (best first;
none for 3). For each pair with a pick, this prints, per half, how often the answer shows the
first pick and any pick (anywhere in the answer: its rule's section or the Closest block).

python bench/how_items.py
"""

from __future__ import annotations

import json
from collections import defaultdict

from bepro import Pack
from bepro.config import resolve_paths
from bepro.evals.actions import half_of

SHOWN_PREFIX = 70  # characters of an item that must appear in the answer, as text


def _plain(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def main() -> None:
    pack = Pack.open()
    path = resolve_paths().root / "evals" / "how-items-real.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        if not row["items"]:
            continue
        answer = _plain(pack.ask(row["question"]).answer)
        shown = [_plain(item.lstrip("- "))[:SHOWN_PREFIX] in answer for item in row["items"]]
        total = totals[half_of(row["question"])]
        total[0] += 1
        total[1] += shown[0]
        total[2] += any(shown)
    print(f"{'half':<10}{'pairs':>6}{'first':>8}{'any':>8}")
    for half, (count, first, anywhere) in sorted(totals.items()):
        print(f"{half:<10}{count:>6}{first / count:>8.2f}{anywhere / count:>8.2f}")


if __name__ == "__main__":
    main()
