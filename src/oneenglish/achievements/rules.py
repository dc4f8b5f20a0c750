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


def current_streak(days: set[str], today: date) -> int:
    """The streak still alive: ending today, or yesterday while today is not studied yet."""
    if today.isoformat() in days:
        return streak_length(days, today)
    return streak_length(days, today - timedelta(days=1))


def longest_streak(days: set[str]) -> int:
    longest = run = 0
    previous: date | None = None
    for day in sorted(date.fromisoformat(d) for d in days):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    return longest


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
