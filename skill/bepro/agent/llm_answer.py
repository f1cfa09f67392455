"""Grounded answers from an LLM: the retrieved rules go in, cited ids are checked on the way out.

Structured mode (JSON output) asks for a JSON object (json_schema, then json_object, then plain
text, as far as the server supports), validates it with pydantic and allows one repair attempt.
Streaming mode (text output) checks citations line by line before a line is shown. Any failure
raises LLMError; the surfaces then show the offline answer with a one-line notice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bepro import mdparse
from bepro.agent.ask import AskResult, CitationOut, Retrieval
from bepro.agent.offline import closest_items
from bepro.agent.relevance import Relevance
from bepro.catalogue.model import Catalogue
from bepro.knowledge.references import load_reference
from bepro.llm.client import Completion, LLMClient, LLMError, Message, Usage, estimate_tokens
from bepro.llm.grounding import (
    CitationCheck,
    FindingsCheck,
    LLMAnswer,
    answer_schema,
    check_against_findings,
    check_citations,
    render_answer,
)
from bepro.llm.prompts import Passage, allowed_ids, build_messages, select_passages
from bepro.resilience import Deadline

PASSAGES_PER_RULE = 2
RULES_IN_CONTEXT = 6


def passages_for(retrieval: Retrieval, catalogue: Catalogue, root: Path) -> list[Passage]:
    """The reference items that stand out for the question (pinned), then passages of the chosen
    rules (those the code's findings break lead them), then the next best: every rule of a
    finding can be cited."""
    chosen = {rule_id: rank for rank, rule_id in enumerate(retrieval.chosen)}
    hits = sorted(retrieval.ranking.rules, key=lambda hit: chosen.get(hit.rule_id, len(chosen)))
    passages: list[Passage] = []
    for hit in hits[: max(RULES_IN_CONTEXT, len(chosen))]:
        for chunk_hit in hit.chunks[:PASSAGES_PER_RULE]:
            chunk = chunk_hit.chunk
            passages.append(
                Passage(
                    hit.rule_id, chunk.priority or 8, chunk.heading, chunk.text, chunk_hit.score
                )
            )
    return [*_closest_passages(retrieval, catalogue, root), *passages]


def _closest_passages(retrieval: Retrieval, catalogue: Catalogue, root: Path) -> list[Passage]:
    """The offline answer's "Closest to your question" items: chunks are whole sections, where
    the one item about `--preload` or `acks_late` can fall outside the passages that fit."""
    references = [
        reference
        for rule_id in retrieval.chosen
        if (reference := load_reference(root, rule_id)) is not None
    ]
    relevance = Relevance.of(retrieval.asked_about, references)
    passages: list[Passage] = []
    prose = None if retrieval.context else retrieval.question
    for item in closest_items(relevance, references, prose):
        rule = catalogue.rule(item.reference.rule_id)
        heading = f"{item.reference.title} > {item.heading}"
        text = "\n".join(item.block.lines)
        priority = rule.priority if rule else 8
        passages.append(Passage(item.reference.rule_id, priority, heading, text, 0.0, pinned=True))
    return passages


def output_contract(root: Path, action: str) -> str:
    guide = root / "references" / "actions" / f"{action}.md"
    if not guide.is_file():
        return ""
    text = guide.read_text(encoding="utf-8")
    for section in mdparse.sections(mdparse.parse(text), level=2):
        if section.title == "Output contract":
            return "\n".join(t.content for t in section.tokens if t.type == "inline")
    return ""


class GroundedAnswerer:
    def __init__(self, client: LLMClient, catalogue: Catalogue, root: Path) -> None:
        self.client = client
        self.catalogue = catalogue
        self.root = root

    def _messages(self, retrieval: Retrieval, structured: bool) -> tuple[list[Message], set[str]]:
        budget = self.client.config.settings.context_tokens
        passages = select_passages(passages_for(retrieval, self.catalogue, self.root), budget)
        messages = build_messages(
            self.catalogue,
            retrieval.action,
            output_contract(self.root, retrieval.action),
            retrieval.question,
            retrieval.context,
            passages,
            structured,
            retrieval.leading,  # as the offline answer: most preview codes lead nothing
            retrieval.synchronous,
        )
        return messages, allowed_ids(passages, retrieval.findings)

    def structured(self, retrieval: Retrieval, offline: AskResult) -> AskResult:
        deadline = Deadline(self.client.config.settings.deadline)
        messages, allowed = self._messages(retrieval, structured=True)
        completion, answer = self._structured_completion(messages, deadline)
        markdown, rules, check = render_answer(answer, self.catalogue, allowed)
        disagreement = check_against_findings(markdown, rules, retrieval.leading)
        markdown = _flagged(markdown, disagreement)
        return self._result(retrieval, offline, markdown, rules, check, completion, disagreement)

    def _structured_completion(
        self, messages: list[Message], deadline: Deadline
    ) -> tuple[Completion, LLMAnswer]:
        completion = self._complete_json(messages, deadline)
        try:
            return completion, _parse_answer(completion.text)
        except (ValueError, ValidationError) as first_error:
            repair = [
                *messages,
                {"role": "assistant", "content": completion.text[:4000]},
                {
                    "role": "user",
                    "content": f"That reply was not a valid JSON object for the schema ({_short(first_error)}). "
                    "Reply with the corrected JSON object only.",
                },
            ]
            repaired = self._complete_json(repair, deadline)
            try:
                return repaired, _parse_answer(repaired.text)
            except (ValueError, ValidationError) as second_error:
                raise LLMError(
                    f"the model's answer did not match the schema twice: {_short(second_error)}"
                ) from second_error

    def _complete_json(self, messages: list[Message], deadline: Deadline) -> Completion:
        """The strictest response format the server accepts, from json_schema down to none."""
        schema = answer_schema()
        formats: list[dict[str, Any] | None] = [
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
            {"type": "json_object", "schema": schema},  # llama.cpp's grammar-constrained form
            {"type": "json_object"},
            None,
        ]
        for response_format in formats:
            try:
                return self.client.complete(messages, deadline, response_format)
            except LLMError as error:
                if response_format is None or not _is_unsupported_format(error):
                    raise
        raise LLMError("no response format was accepted")  # unreachable: None is last

    def streamed(
        self, retrieval: Retrieval, offline: AskResult, emit: Callable[[str], None]
    ) -> AskResult:
        """Stream the answer line by line, each line citation-checked before it is shown."""
        deadline = Deadline(self.client.config.settings.deadline)
        messages, allowed = self._messages(retrieval, structured=False)
        check = CitationCheck()
        shown: list[str] = []
        pending = ""
        for delta in self.client.stream(messages, deadline):
            pending += delta
            *lines, pending = pending.split("\n")
            for line in lines:
                cleaned, line_check = check_citations(line, allowed)
                check.merge(line_check)
                shown.append(cleaned)
                emit(cleaned + "\n")
        if pending:
            cleaned, line_check = check_citations(pending, allowed)
            check.merge(line_check)
            shown.append(cleaned)
            emit(cleaned + "\n")
        text = "\n".join(shown)
        disagreement = check_against_findings(text, check.kept, retrieval.leading)
        if not disagreement.agrees:
            emit("\n" + disagreement.note())
        text = _flagged(text, disagreement)
        prompt_tokens = estimate_tokens("".join(m["content"] for m in messages))
        completion = Completion(
            text=text, usage=_estimated(prompt_tokens, text), model=self.client.config.model
        )
        rules = self.catalogue.in_priority_order(check.kept)
        return self._result(retrieval, offline, text + "\n", rules, check, completion, disagreement)

    def _result(
        self,
        retrieval: Retrieval,
        offline: AskResult,
        markdown: str,
        rules: list[str],
        check: CitationCheck,
        completion: Completion,
        disagreement: FindingsCheck,
    ) -> AskResult:
        cited = set(rules)
        citations = [c for c in offline.citations if c.rule_id in cited]
        known = {c.rule_id for c in citations}
        citations += [
            CitationOut(
                rule_id=hit.rule_id,
                source=hit.chunks[0].chunk.source,
                heading=hit.chunks[0].chunk.heading,
            )
            for hit in retrieval.ranking.rules
            if hit.rule_id in cited and hit.rule_id not in known
        ]
        usage = completion.usage
        return AskResult(
            action=retrieval.action,
            action_inferred=retrieval.inferred,
            action_confidence=retrieval.action_confidence,
            mode="llm",
            answer=retrieval.code_sections(markdown),
            rules=rules,
            citations=citations,
            abstained=False,
            model=completion.model,
            usage={
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
            },
            citation_check={**check.as_dict(), **disagreement.as_dict()},
            findings=None if retrieval.context is None else list(retrieval.findings),
            fixes=retrieval.fix_outs(),
        )


def _flagged(answer: str, disagreement: FindingsCheck) -> str:
    """The answer with the review's disagreement flagged under it (unchanged when it agrees)."""
    if disagreement.agrees:
        return answer
    return answer.rstrip("\n") + "\n\n" + disagreement.note()


def _parse_answer(text: str) -> LLMAnswer:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    return LLMAnswer.model_validate(json.loads(text[start : end + 1]))


def _is_unsupported_format(error: LLMError) -> bool:
    """A server that does not know a response format says so with 400/422/501, or (llama.cpp)
    with a 500 whose message names the field."""
    cause = error.__cause__
    status = getattr(cause, "status_code", None)
    return status in (400, 422, 501) or (status == 500 and "response_format" in str(cause))


def _estimated(prompt_tokens: int, text: str) -> Usage:
    completion_tokens = estimate_tokens(text)
    return Usage(prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200]
