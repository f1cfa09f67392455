"""Typed catalogue of the skill: categories, rules, actions and workflow steps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["CRITICAL", "HIGH", "MEDIUM"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(_Frozen):
    priority: int
    name: str
    goal: str
    signals: tuple[str, ...]
    severity: Severity


class Rule(_Frozen):
    id: str
    summary: str
    category: str
    priority: int
    severity: Severity
    line: int

    @property
    def reference_path(self) -> str:
        """Where the rule's reference lives, relative to the pack root."""
        return f"references/rules/{self.id}.md"


class Action(_Frozen):
    name: str
    produces: str
    focus: tuple[str, ...]
    line: int

    @property
    def guide_path(self) -> str:
        return f"references/actions/{self.name}.md"


class WorkflowStep(_Frozen):
    number: int
    text: str


class SkillMeta(_Frozen):
    name: str
    description: str


class Catalogue(_Frozen):
    meta: SkillMeta
    categories: tuple[Category, ...]
    rules: tuple[Rule, ...]
    actions: tuple[Action, ...]
    workflow: tuple[WorkflowStep, ...]

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def action(self, name: str) -> Action | None:
        return next((action for action in self.actions if action.name == name), None)

    def category(self, name: str) -> Category | None:
        return next((cat for cat in self.categories if cat.name == name), None)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(action.name for action in self.actions)

    def in_priority_order(self, rule_ids: list[str]) -> list[str]:
        """Known ids sorted by priority, keeping the given order within a priority."""
        position = {rule.id: index for index, rule in enumerate(self.rules)}
        known = [rule_id for rule_id in dict.fromkeys(rule_ids) if rule_id in position]
        return sorted(known, key=lambda rule_id: self.rules[position[rule_id]].priority)
