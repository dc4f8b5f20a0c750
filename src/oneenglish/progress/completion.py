"""When a lesson is completed: its rule, checked against what the learner has done. Pure.

- `requirements` (the default): every step of the lesson's content done and, where the lesson
  has exercises, a quiz attempt at or above the lesson's pass mark. The lesson completes by
  itself on the update (or the quiz) that meets the rule; a learner who claims completion
  before then is told what is missing (409).
- `manual`: the learner marks it done (`completed: true`); nothing else is required.

Exercises that only a person can grade (free text without accepted answers) are left out of a
quiz's maximum (progress/grading.py), so they never stand between a learner and the pass mark."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

REQUIREMENTS = "requirements"
MANUAL = "manual"


@dataclass(frozen=True)
class Rule:
    manual: bool
    steps: frozenset[str] = frozenset()
    pass_mark: int | None = None  # None: no quiz required (no exercises, or manual)

    @property
    def requires_anything(self) -> bool:
        return bool(self.steps) or self.pass_mark is not None


@dataclass(frozen=True)
class Missing:
    steps: list[str] = field(default_factory=list)
    pass_mark: int | None = None
    best_quiz_percent: float | None = None

    def __bool__(self) -> bool:
        return bool(self.steps) or self.pass_mark is not None

    def describe(self) -> str:
        parts = []
        if self.steps:
            parts.append(f"steps not done: {', '.join(self.steps)}")
        if self.pass_mark is not None:
            best = (
                "no attempt yet"
                if self.best_quiz_percent is None
                else (f"best so far {self.best_quiz_percent:g}%")
            )
            parts.append(f"a quiz attempt of at least {self.pass_mark}% ({best})")
        return "; ".join(parts)

    def as_problem(self) -> dict[str, Any]:
        return {
            "missing_steps": self.steps,
            "pass_mark": self.pass_mark,
            "best_quiz_percent": self.best_quiz_percent,
        }


def rule_for(completion: str, pass_mark: int, content: dict[str, Any] | None) -> Rule:
    if completion == MANUAL:
        return Rule(manual=True)
    content = content or {}
    steps = frozenset(s["id"] for s in content.get("steps", []))
    return Rule(
        manual=False,
        steps=steps,
        pass_mark=pass_mark if content.get("exercises") else None,
    )


def missing(rule: Rule, steps_done: Iterable[str], best_percent: Decimal | None) -> Missing:
    if rule.manual:
        return Missing()
    done = set(steps_done)
    best = None if best_percent is None else float(best_percent)
    quiz_short = rule.pass_mark is not None and (best is None or best < rule.pass_mark)
    return Missing(
        steps=sorted(rule.steps - done),
        pass_mark=rule.pass_mark if quiz_short else None,
        best_quiz_percent=best if quiz_short else None,
    )


def completes(rule: Rule, missing_now: Missing, claimed: bool) -> bool:
    """Whether this update completes the lesson (if it is not completed yet)."""
    if missing_now:
        return False
    return claimed or (not rule.manual and rule.requires_anything)
