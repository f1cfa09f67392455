"""The chunker follows headings, keeps code blocks whole, bounds chunk size and tags metadata."""

from __future__ import annotations

from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.knowledge.chunk import MAX_CHUNK_CHARS, chunk_file, chunk_pack

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = """# timeouts: Set per dependency; no unbounded waits

**Category:** Reliability & Resilience · **Priority:** 2 · **Severity:** CRITICAL

Every call has a deadline.

## Why it matters

A hung dependency held every worker.

## Do

```python
import httpx

client = httpx.Client(timeout=httpx.Timeout(2.0, connect=1.0))


def first():
    return 1


def second():
    return 2
```

## Related rules

- `retries`: retry only within the deadline.
"""


def test_reference_splits_at_sections_with_rule_metadata(catalogue: Catalogue) -> None:
    chunks = chunk_file("references/rules/timeouts.md", REFERENCE, catalogue)
    headings = [chunk.heading for chunk in chunks]
    assert headings[0].startswith("timeouts: Set per dependency")
    assert any(h.endswith("> Why it matters") for h in headings)
    assert any(h.endswith("> Do") for h in headings)
    assert not any("Related rules" in h for h in headings)
    for chunk in chunks:
        assert chunk.rule_id == "timeouts"
        assert chunk.category == "Reliability & Resilience"
        assert chunk.priority == 2
        assert chunk.kind == "reference"


def test_code_block_is_never_split(catalogue: Catalogue) -> None:
    long_code = (
        "```python\n"
        + "\n".join(f"value_{i} = {i}  # padding padding padding" for i in range(80))
        + "\n```"
    )
    text = f"# timeouts: x\n\n## Do\n\nSome prose first.\n\n{long_code}\n\nAfter the code.\n"
    chunks = chunk_file("references/rules/timeouts.md", text, catalogue)
    holding = [chunk for chunk in chunks if "value_0 = 0" in chunk.text]
    assert len(holding) == 1
    assert "value_79 = 79" in holding[0].text
    assert holding[0].text.count("```") == 2


def test_whole_pack_chunks_are_bounded_and_fences_balanced(catalogue: Catalogue) -> None:
    chunks = chunk_pack(ROOT, catalogue)
    assert len({chunk.id for chunk in chunks}) == len(chunks)
    for chunk in chunks:
        assert chunk.text.count("```") % 2 == 0, chunk.id
        if "```" not in chunk.text:
            assert len(chunk.text) <= MAX_CHUNK_CHARS + 400, chunk.id
    rule_chunks = {
        chunk.rule_id for chunk in chunks if chunk.source == "SKILL.md" and chunk.kind == "rule"
    }
    assert rule_chunks == set(catalogue.rule_ids)
    kinds = {chunk.kind for chunk in chunks}
    assert {"rule", "reference", "python-core", "action", "workflow"} <= kinds


def test_embedding_text_trims_code_but_keeps_prose(catalogue: Catalogue) -> None:
    chunks = chunk_file("references/rules/timeouts.md", REFERENCE, catalogue)
    do_chunk = next(chunk for chunk in chunks if chunk.heading.endswith("> Do"))
    embedded = do_chunk.embedding_text()
    assert "import httpx" in embedded
    assert "def second" not in embedded
    assert "def second" in do_chunk.document()
