"""How much data each scale holds (the issue's numbers; large is ten times small)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    users: int  # each with a profile and settings
    courses: int
    lessons_per_course: int  # each lesson with its content
    enrollments: int
    chat_messages: int

    def summary(self) -> dict[str, int]:
        return {
            "users": self.users,
            "courses": self.courses,
            "lessons": self.courses * self.lessons_per_course,
            "enrollments": self.enrollments,
            "chat_messages": self.chat_messages,
        }


SCALES = {
    "small": Scale("small", 10_000, 200, 20, 50_000, 200_000),
    "large": Scale("large", 100_000, 2_000, 20, 500_000, 2_000_000),
}
