"""A learner's detail per lesson (MongoDB) and quiz grading."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from oneenglish.db.mongo import Database
from oneenglish.progress import grading, repository
from oneenglish.progress.models import progress_key
from oneenglish.progress.schemas import (
    Answer,
    ExerciseResult,
    LessonProgressOut,
    ProgressDetail,
    QuizAttemptRecord,
)


async def apply_progress(mongo: Database, detail: ProgressDetail) -> None:
    """Apply a recorded progress update (the saga step). Safe to repeat."""
    key = progress_key(detail.user_id, detail.lesson_id)
    await repository.apply_progress(
        mongo,
        key=key,
        user_id=detail.user_id,
        lesson_id=detail.lesson_id,
        course_id=detail.course_id,
        enrollment_id=detail.enrollment_id,
        steps=detail.steps,
        time_spent_total=detail.time_spent_total,
        completed_at=detail.completed_at,
        at=detail.at,
    )
    if detail.notes is not None:
        await repository.set_notes_if_newer(mongo, key, detail.notes, detail.at)


async def apply_quiz_attempt(mongo: Database, record: QuizAttemptRecord) -> None:
    await repository.add_quiz_attempt(
        mongo,
        key=progress_key(record.user_id, record.lesson_id),
        user_id=record.user_id,
        lesson_id=record.lesson_id,
        course_id=record.course_id,
        enrollment_id=record.enrollment_id,
        attempt=record.attempt,
        at=datetime.fromisoformat(record.attempt["submittedAt"]),
    )


def grade_attempt(
    exercises: Sequence[dict[str, Any]], answers: Sequence[Answer]
) -> tuple[list[ExerciseResult], float, int]:
    grading.check_answers({e["id"]: e for e in exercises}, answers)
    return grading.grade(exercises, answers)


def with_feedback(
    results: Sequence[ExerciseResult], exercises: Sequence[dict[str, Any]]
) -> list[ExerciseResult]:
    return grading.with_feedback(results, exercises)


async def lesson_detail(
    mongo: Database, user_id: uuid.UUID, lesson_id: uuid.UUID
) -> LessonProgressOut | None:
    document = await repository.get(mongo, str(user_id), str(lesson_id))
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


async def quiz_totals(mongo: Database, user_id: uuid.UUID) -> dict[str, tuple[int, float]]:
    return await repository.quiz_totals_by_course(mongo, str(user_id))


async def delete_of_lesson(mongo: Database, lesson_id: uuid.UUID | str) -> None:
    await repository.delete_where(mongo, "lessonId", str(lesson_id))


async def delete_of_enrollment(mongo: Database, enrollment_id: uuid.UUID | str) -> None:
    await repository.delete_where(mongo, "enrollmentId", str(enrollment_id))


async def delete_of_course(mongo: Database, course_id: uuid.UUID | str) -> None:
    await repository.delete_where(mongo, "courseId", str(course_id))
