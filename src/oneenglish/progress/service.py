"""A learner's detail per lesson (MongoDB) and quiz grading."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from oneenglish.db.mongo import Database
from oneenglish.progress import grading, repository
from oneenglish.progress.models import progress_key
from oneenglish.progress.schemas import Answer, ExerciseResult, LessonProgressOut


async def apply_progress(db: Database, payload: dict[str, Any]) -> None:
    """Apply a recorded progress update (the saga step). Safe to repeat."""
    key = progress_key(payload["user_id"], payload["lesson_id"])
    at = datetime.fromisoformat(payload["at"])
    completed = payload.get("completed_at")
    await repository.apply_progress(
        db,
        key=key,
        user_id=payload["user_id"],
        lesson_id=payload["lesson_id"],
        course_id=payload["course_id"],
        enrollment_id=payload["enrollment_id"],
        steps=payload["steps"],
        time_spent_total=payload["time_spent_total"],
        completed_at=datetime.fromisoformat(completed) if completed else None,
        at=at,
    )
    if payload.get("notes") is not None:
        await repository.set_notes_if_newer(db, key, payload["notes"], at)


async def apply_quiz_attempt(db: Database, payload: dict[str, Any]) -> None:
    await repository.add_quiz_attempt(
        db,
        key=progress_key(payload["user_id"], payload["lesson_id"]),
        user_id=payload["user_id"],
        lesson_id=payload["lesson_id"],
        course_id=payload["course_id"],
        enrollment_id=payload["enrollment_id"],
        attempt=payload["attempt"],
        at=datetime.fromisoformat(payload["attempt"]["submittedAt"]),
    )


def grade_attempt(
    exercises: Sequence[dict[str, Any]], answers: Sequence[Answer]
) -> tuple[list[ExerciseResult], float, int]:
    grading.check_answers({e["id"]: e for e in exercises}, answers)
    return grading.grade(exercises, answers)


async def lesson_detail(
    db: Database, user_id: uuid.UUID, lesson_id: uuid.UUID
) -> LessonProgressOut | None:
    document = await repository.get(db, progress_key(str(user_id), str(lesson_id)))
    if document is None:
        return None
    return LessonProgressOut(
        lesson_id=document["lessonId"],
        completed_steps=document.get("completedSteps", []),
        time_spent_seconds=document.get("timeSpent", 0),
        notes=document.get("notes", ""),
        completed_at=document.get("completedAt"),
        quiz_attempts=document.get("quizAttempts", 0),
        best_percent=document.get("bestPercent"),
        last_activity_at=document.get("lastActivityAt"),
    )


async def quiz_totals(db: Database, user_id: uuid.UUID) -> dict[str, tuple[int, float]]:
    return await repository.quiz_totals_by_course(db, str(user_id))


async def delete_of_lesson(db: Database, lesson_id: uuid.UUID | str) -> None:
    await repository.delete_where(db, "lessonId", str(lesson_id))


async def delete_of_enrollment(db: Database, enrollment_id: uuid.UUID | str) -> None:
    await repository.delete_where(db, "enrollmentId", str(enrollment_id))


async def delete_of_course(db: Database, course_id: uuid.UUID | str) -> None:
    await repository.delete_where(db, "courseId", str(course_id))
