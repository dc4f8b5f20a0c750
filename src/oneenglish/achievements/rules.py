"""The achievement rules: which awards an event can earn. Pure functions of the event (and, for
streaks and milestones, of totals the engine looks up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from oneenglish.events import service as events

STREAKS = (3, 7, 30)
MILESTONES = (100, 500, 1000)


@dataclass(frozen=True)
class Award:
    key: str  # unique per user: the same key is never awarded twice
    type: str
    title: str
    points: int
    course_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def awards_for(event: events.DomainEvent) -> list[Award]:
    data = event.data
    course = data.get("courseId")
    match event.type:
        case events.LESSON_COMPLETED:
            return [Award("first_lesson", "first_lesson", "First lesson completed", 10, course)]
        case events.COURSE_COMPLETED:
            title = data.get("courseTitle") or "a course"
            return [
                Award(f"course:{course}", "course_completed", f"Completed {title}", 100, course)
            ]
        case events.QUIZ_PERFECT:
            return [
                Award(
                    f"quiz_perfect:{data['lessonId']}",
                    "quiz_perfect",
                    "Perfect quiz score",
                    20,
                    course,
                    {"lessonId": data["lessonId"]},
                )
            ]
    return []


def counts_as_study(event: events.DomainEvent) -> bool:
    return event.type in (events.LESSON_COMPLETED, events.QUIZ_SUBMITTED)


def streak_length(days: set[str], today: date) -> int:
    """Consecutive days studied, ending today."""
    length = 0
    while (today - timedelta(days=length)).isoformat() in days:
        length += 1
    return length


def streak_awards(length: int) -> list[Award]:
    return [
        Award(f"streak:{n}", "study_streak", f"{n}-day study streak", n * 5, None, {"days": n})
        for n in STREAKS
        if length >= n
    ]


def milestone_awards(points: int) -> list[Award]:
    return [
        Award(f"points:{m}", "points_milestone", f"{m} points", 0, None, {"points": m})
        for m in MILESTONES
        if points >= m
    ]
