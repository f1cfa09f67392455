"""The README's gallery: one offline answer per action, as `bepro ask` prints it.

    python -m tests.readme_gallery --write   # regenerate the gallery in README.md

tests/test_readme.py checks that each answer in the README still has the shape (its headings)
that bepro gives today, so the gallery cannot drift from the engine unnoticed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bepro import Pack

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- gallery:start -->"
END = "<!-- gallery:end -->"

PAYMENTS = """import datetime

import requests

API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def charge(customer_id: str, amount: int) -> dict:
    sent_at = datetime.datetime.utcnow().isoformat()
    response = requests.post(
        "https://api.payments.example/charges",
        json={"customer": customer_id, "amount": amount, "sent_at": sent_at},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    return response.json()
"""


@dataclass(frozen=True)
class Entry:
    action: str
    question: str
    code: str | None = None  # asked about with --file payments.py

    def command(self) -> str:
        file = " --file payments.py" if self.code else ""
        return f'bepro ask "{self.question}"{file}'


ENTRIES = (
    Entry("plan", "Plan moving our order service from Flask to FastAPI without downtime."),
    Entry("design", "Design how our checkout service should call a flaky payment provider."),
    Entry("build", "Build a new webhook receiver service for payment events."),
    Entry("implement", "Add an endpoint that creates orders, safe for clients that retry."),
    Entry("review", "Review this payments client.", PAYMENTS),
    Entry("fix", "Fix this payments client.", PAYMENTS),
    Entry("optimize", "Our order list endpoint takes 2 s at p99. Make it faster."),
    Entry(
        "refactor", "Refactor our 1,500-line models.py into a package without changing behaviour."
    ),
    Entry("debug", "Our Celery task sometimes runs twice after a worker restart. Why?"),
    Entry("secure", "Harden our public file upload endpoint."),
    Entry("scale", "Traffic will grow 10x next quarter. How do we scale the API?"),
)


def answer(pack: Pack, entry: Entry) -> str:
    """The offline answer `bepro ask` prints for the entry (the action as the entry names it)."""
    result = pack.ask(entry.question, action=entry.action, code=entry.code, filename="payments.py")
    return result.answer


def shape(markdown: str) -> list[str]:
    """An answer's shape: its headings and its table header rows, in order."""
    lines = markdown.splitlines()
    return [
        line
        for index, line in enumerate(lines)
        if line.startswith("#")
        or (
            line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("| ---")
        )
    ]


def gallery(pack: Pack) -> str:
    parts = [START, ""]
    for entry in ENTRIES:
        parts += [
            f"<details><summary><b>{entry.action}</b>: <code>{entry.command()}</code></summary>",
            "",
        ]
        if entry.code:
            parts += ["`payments.py`:", "", "```python", entry.code.rstrip("\n"), "```", ""]
        parts += [answer(pack, entry).rstrip("\n"), "", "</details>", ""]
    return "\n".join([*parts, END])


def readme_answers(readme: str) -> dict[str, str]:
    """Each action's answer as the README shows it."""
    body = readme.split(START, 1)[1].split(END, 1)[0]
    found: dict[str, str] = {}
    for block in body.split("<details><summary><b>")[1:]:
        action = block.split("</b>", 1)[0]
        text = block.split("</summary>", 1)[1].rsplit("</details>", 1)[0]
        if "```python" in text.split("\n## ", 1)[0] and "`payments.py`:" in text:
            text = text.split("```\n", 1)[1]  # the code asked about precedes the answer
        found[action] = text
    return found


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.readme_gallery --write")
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    before, rest = readme.split(START, 1)
    after = rest.split(END, 1)[1]
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text(before + gallery(Pack.open()) + after, encoding="utf-8")
    temporary.replace(path)


if __name__ == "__main__":
    main()
