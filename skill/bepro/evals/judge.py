"""The LLM judge for the answers suite: grades each answer on the rubric in evals/judge/rubric.md.

Each criterion is graded 1-5; a case's judge score is their mean mapped to 0-1. A reply that is not
valid JSON for the grade model counts as unjudged (reported), never as a zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bepro.evals.answers import AnswerCase
from bepro.llm.client import LLMClient, LLMError, Message
from bepro.resilience import Deadline

MAX_ANSWER_CHARS = 12_000


class Grade(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grounded: int = Field(ge=1, le=5)
    priority: int = Field(ge=1, le=5)
    actionable: int = Field(ge=1, le=5)
    safe: int = Field(ge=1, le=5)
    comment: str = ""

    @property
    def score(self) -> float:
        """The mean grade on a 0-1 scale (1 -> 0, 5 -> 1)."""
        values = [self.grounded, self.priority, self.actionable, self.safe]
        return (sum(values) / len(values) - 1) / 4


@dataclass(frozen=True)
class Judgement:
    case_id: str
    grade: Grade | None
    problem: str = ""


class Judge:
    def __init__(self, client: LLMClient, rubric_path: Path) -> None:
        self.client = client
        self.rubric = rubric_path.read_text(encoding="utf-8")

    def judge(self, case: AnswerCase, answer: str) -> Judgement:
        messages: list[Message] = [
            {"role": "system", "content": self.rubric},
            {
                "role": "user",
                "content": f"QUESTION ({case.action}): {case.question}\n"
                f"MUST CITE: {', '.join(case.must_cite)}\nMUST NOT: {'; '.join(case.must_not) or 'none'}\n\n"
                f"ANSWER:\n{answer[:MAX_ANSWER_CHARS]}",
            },
        ]
        try:
            deadline = Deadline(self.client.config.settings.deadline)
            reply = self.client.complete(messages, deadline, {"type": "json_object"})
        except LLMError as error:
            return Judgement(case.id, None, f"the judge did not answer: {error}")
        try:
            text = reply.text
            grade = Grade.model_validate(json.loads(text[text.find("{") : text.rfind("}") + 1]))
        except (ValueError, ValidationError) as error:
            return Judgement(
                case.id,
                None,
                f"the judge's reply is not a grade: {str(error).splitlines()[0][:120]}",
            )
        return Judgement(case.id, grade)
