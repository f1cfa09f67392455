"""Infer the action a question asks for, when the user does not name one."""

from __future__ import annotations

import re

# Cue words per action, checked in this order: the first action with a cue wins. Order matters:
# "review this fix" is a review, "why is it slow" is optimize before debug.
ACTION_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("review", ("review", "pr ", "pull request", "code review", "look at this", "anything wrong")),
    (
        "secure",
        (
            "secure",
            "security",
            "vulnerab",
            "attack",
            "injection",
            "leak",
            "exploit",
            "pentest",
            "threat",
        ),
    ),
    (
        "scale",
        (
            "scale",
            "scaling",
            "10x",
            "100x",
            "shard",
            "partition",
            "horizontal",
            "capacity",
            "traffic grow",
        ),
    ),
    (
        "optimize",
        ("slow", "latency", "faster", "optimi", "throughput", "p99", "cpu", "memory use", "cost"),
    ),
    (
        "debug",
        (
            "debug",
            "why does",
            "why is",
            "crash",
            "error",
            "exception",
            "intermittent",
            "flaky",
            "hang",
            "incident",
        ),
    ),
    ("fix", ("fix", "bug", "broken", "wrong", "double", "duplicate")),
    ("refactor", ("refactor", "clean up", "restructure", "split this", "untangle")),
    (
        "design",
        ("design", "architecture", "trade-off", "tradeoff", "should we use", "which database"),
    ),
    ("plan", ("plan", "migrat", "roadmap", "rollout", "phase")),
    ("build", ("build", "new service", "from scratch", "greenfield", "bootstrap")),
    ("implement", ("implement", "add ", "write", "how do i", "how to")),
)
DEFAULT_ACTION = "implement"
_SPACES = re.compile(r"\s+")


def infer_action(question: str, known_actions: tuple[str, ...]) -> str:
    text = f" {_SPACES.sub(' ', question.lower())} "
    for action, cues in ACTION_CUES:
        if action in known_actions and any(cue in text for cue in cues):
            return action
    return DEFAULT_ACTION
