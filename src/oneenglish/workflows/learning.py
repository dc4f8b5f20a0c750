"""What learners do with a lesson, across both databases.

- Read a lesson: the row and course (PostgreSQL) and the content and the learner's detail
  (MongoDB), concurrently. Content is for enrolled learners and the course's managers; answer
  keys only for managers. MongoDB down: 200 without content, `degraded: ["mongodb"]`.
- Record progress: exact totals in PostgreSQL (time added to the lesson's row, first
  completion, the enrollment's progress recomputed under its row lock, events published) with
  the saga's intent, in one transaction; then the MongoDB detail (steps, notes) under the saga.
  MongoDB down after the commit: 202 `synced: false`, applied by the relay later (never 503:
  the time was already counted, a retry would count it twice).
- Submit a quiz: graded on the server against the keys; the attempt is recorded the same way.
- My learning: one aggregate per database (PostgreSQL: progress, lessons, time, last
  activity; MongoDB: quiz attempts and average), concurrently.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pymongo.errors import PyMongoError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.content.schemas import ContentOut, ManagedContentOut
from oneenglish.core.context import Actor
from oneenglish.core.errors import Forbidden, InvalidInput
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database, MongoDocument, is_unavailable
from oneenglish.enrollments import service as enrollments
from oneenglish.enrollments.schemas import CourseSummary
from oneenglish.events import service as events
from oneenglish.idempotency import service as idempotency
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.lessons import service as lessons
from oneenglish.lessons.schemas import LessonOut
from oneenglish.progress import service as progress
from oneenglish.progress.schemas import (
    CourseLearning,
    LessonProgressOut,
    MyLearningOut,
    ProgressIn,
    ProgressOut,
    QuizIn,
    QuizResultOut,
)
from oneenglish.sagas.models import COMPLETED
from oneenglish.sagas.runner import SagaRunner, enqueue
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register
from oneenglish.workflows.user_data import live_users

RECORD_PROGRESS = "record_progress"
RECORD_QUIZ = "record_quiz_attempt"


async def _apply_progress(context: StepContext) -> None:
    await progress.apply_progress(context.mongo, context.payload)


async def _apply_quiz(context: StepContext) -> None:
    await progress.apply_quiz_attempt(context.mongo, context.payload)


register(Workflow(RECORD_PROGRESS, (Step("detail", _apply_progress),), on_failure=OnFailure.RETRY))
register(Workflow(RECORD_QUIZ, (Step("attempt", _apply_quiz),), on_failure=OnFailure.RETRY))


class LessonView(LessonOut):
    course: CourseSummary
    content: ManagedContentOut | ContentOut | None
    locked: bool
    my_progress: LessonProgressOut | None
    degraded: list[str]


async def _mongo_or_degraded(*reads: Any) -> tuple[list[Any], list[str]]:
    try:
        return list(await asyncio.gather(*reads)), []
    except PyMongoError as exc:
        if not is_unavailable(exc):
            raise
        return [None] * len(reads), ["mongodb"]


async def view_lesson(
    db: AsyncSession, mongo: Database, principal: Principal, lesson_id: uuid.UUID
) -> LessonView:
    async def access_and_enrollment() -> tuple[lessons.LessonAccess, bool]:
        access = await lessons.get_accessible(db, principal, lesson_id)
        allowed = access.manages or principal.can("courses", "read")
        if not allowed:
            allowed = await enrollments.is_enrolled(db, principal.id, access.course.id)
        return access, allowed

    (access, allowed), ((document, detail), degraded) = await asyncio.gather(
        access_and_enrollment(),
        _mongo_or_degraded(
            content.find_content(mongo, lesson_id),
            progress.lesson_detail(mongo, principal.id, lesson_id),
        ),
    )
    course = access.course
    shown = None
    if allowed and document is not None:
        shown = content.view(document, with_answers=access.manages)
    return LessonView(
        **LessonOut.model_validate(access.lesson).model_dump(),
        course=CourseSummary(
            id=course.id, title=course.title, slug=course.slug, level=course.level
        ),
        content=shown,
        locked=not allowed,
        my_progress=detail,
        degraded=degraded,
    )


async def _no_content() -> None:
    return None


async def _enrollment_and_content(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    lesson_id: uuid.UUID,
    *,
    needs_content: bool = True,
) -> tuple[lessons.LessonAccess, MongoDocument | None]:
    access = await lessons.get_accessible(db, principal, lesson_id)
    enrolled, document = await asyncio.gather(
        enrollments.is_enrolled(db, principal.id, access.course.id),
        content.find_content(mongo, lesson_id) if needs_content else _no_content(),
    )
    if not enrolled:
        raise Forbidden("Enrol in the course first")
    return access, document


async def record_progress(
    db: AsyncSession,
    mongo: Database,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: ProgressIn,
) -> ProgressOut:
    # The content is read only to check named steps: time and completion alone need no MongoDB.
    access, document = await _enrollment_and_content(
        db, mongo, principal, lesson_id, needs_content=bool(body.completed_steps)
    )
    unknown = sorted(
        set(body.completed_steps) - (content.item_ids(document) if document else set())
    )
    if unknown:
        raise InvalidInput(
            f"No such steps in this lesson: {', '.join(unknown)}",
            errors=[{"loc": ["body", "completed_steps"], "msg": "unknown ids"}],
            unknown=unknown,
        )
    course = access.course
    result = await enrollments.record_activity(
        db,
        principal.id,
        course.id,
        course.title,
        lesson_id,
        body.time_spent_seconds,
        body.completed,
    )
    saga = enqueue(
        db,
        RECORD_PROGRESS,
        {
            "user_id": str(principal.id),
            "lesson_id": str(lesson_id),
            "course_id": str(course.id),
            "enrollment_id": str(result.enrollment_id),
            "steps": body.completed_steps,
            "time_spent_total": result.time_spent_seconds,
            "completed_at": result.lesson_completed_at.isoformat()
            if result.lesson_completed_at
            else None,
            "notes": body.notes,
            "at": datetime.now(UTC).isoformat(),
        },
        subject_id=result.enrollment_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
        user_ids=[principal.id],
    )
    audit.record(
        db,
        actor,
        "progress.recorded",
        "lesson_progress",
        f"{principal.id}:{lesson_id}",
        after={
            "completed_steps": body.completed_steps,
            "time_spent_seconds": body.time_spent_seconds,
            "completed": body.completed,
            # The notes are the learner's own words: kept in their progress (erased with
            # them), not in the audit log, which is kept forever.
            "notes_updated": body.notes is not None,
            "course_progress": float(result.progress),
        },
    )
    await db.commit()
    synced = await runner.run_now(saga) == COMPLETED
    return ProgressOut(
        lesson_id=lesson_id,
        course_id=course.id,
        enrollment_id=result.enrollment_id,
        time_spent_seconds=result.time_spent_seconds,
        completed_at=result.lesson_completed_at,
        course_progress=result.progress,
        course_completed_at=result.course_completed_at,
        synced=synced,
    )


def _camel(model: BaseModel) -> dict[str, Any]:
    return {
        "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v
        for k, v in model.model_dump(mode="json").items()
    }


async def submit_quiz(
    db: AsyncSession,
    mongo: Database,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: QuizIn,
    idempotent: IdempotentRequest | None = None,
) -> QuizResultOut:
    await idempotency.replay_if_known(db, idempotent)
    access, document = await _enrollment_and_content(db, mongo, principal, lesson_id)
    exercises = (document or {}).get("exercises", [])
    if not exercises:
        raise InvalidInput("This lesson has no exercises to answer")
    results, score, max_score = progress.grade_attempt(exercises, body.answers)
    percent = round(100 * score / max_score, 2) if max_score else 0.0
    perfect = max_score > 0 and score == max_score
    attempt_id = uuid.uuid4()
    course = access.course
    activity = await enrollments.record_activity(
        db, principal.id, course.id, course.title, lesson_id, 0, False
    )
    data = {"courseId": str(course.id), "lessonId": str(lesson_id), "percent": percent}
    events.publish(db, events.QUIZ_SUBMITTED, principal.id, data)
    if perfect:
        events.publish(db, events.QUIZ_PERFECT, principal.id, data)
    saga = enqueue(
        db,
        RECORD_QUIZ,
        {
            "user_id": str(principal.id),
            "lesson_id": str(lesson_id),
            "course_id": str(course.id),
            "enrollment_id": str(activity.enrollment_id),
            "attempt": {
                "attemptId": str(attempt_id),
                "submittedAt": datetime.now(UTC).isoformat(),
                "score": score,
                "maxScore": max_score,
                "percent": percent,
                "results": [_camel(r) for r in results],
                "answers": [_camel(a) for a in body.answers],
            },
        },
        subject_id=activity.enrollment_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
        user_ids=[principal.id],
    )
    audit.record(
        db,
        actor,
        "quiz.submitted",
        "quiz_attempt",
        attempt_id,
        after={
            "lesson_id": str(lesson_id),
            "score": score,
            "max_score": max_score,
            "percent": percent,
        },
    )
    result = QuizResultOut(
        attempt_id=attempt_id,
        score=score,
        max_score=max_score,
        percent=percent,
        perfect=perfect,
        results=results,
        recorded=False,
    )
    # A replay says `recorded: true` once the saga that stores the attempt has completed.
    await idempotency.remember(
        db, idempotent, status_code=200, body=result, user_id=principal.id, saga_id=saga.id
    )
    await db.commit()
    recorded = await runner.run_now(saga) == COMPLETED
    return result.model_copy(update={"recorded": recorded})


async def my_learning(db: AsyncSession, mongo: Database, principal: Principal) -> MyLearningOut:
    async def postgres_part() -> tuple[list[Any], dict[uuid.UUID, str]]:
        rows = await enrollments.progress_of(db, principal.id)
        titled = await courses.summaries(db, [r.course_id for r in rows])
        return rows, {c.id: c.title for c in titled}

    (rows, titles), ([quiz], degraded) = await asyncio.gather(
        postgres_part(), _mongo_or_degraded(progress.quiz_totals(mongo, principal.id))
    )
    learning = []
    for row in rows:
        attempts, percent_sum = (quiz or {}).get(str(row.course_id), (0, 0.0))
        learning.append(
            CourseLearning(
                **row.model_dump(),
                course_title=titles.get(row.course_id),
                quiz_attempts=None if degraded else attempts,
                quiz_average_percent=None
                if degraded or not attempts
                else round(percent_sum / attempts, 2),
            )
        )
    return MyLearningOut(courses=learning, degraded=degraded)


async def replace_content(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: Any,
) -> ManagedContentOut:
    """Replace a lesson's content (MongoDB only; the lesson row is not changed)."""
    course_id = (await lessons.get_managed(db, principal, lesson_id)).course.id
    await db.rollback()  # release the course lock before the MongoDB write
    # The audit entry carries the teacher's address: written only while they are not erased.
    async with live_users(db, [principal.id]):
        document = await content.store_content(
            mongo, lesson_id, course_id, content.to_document(body)
        )
        await audit.write_now(
            mongo,
            actor,
            "lesson.content_replaced",
            "lesson",
            lesson_id,
            after={
                "version": document["version"],
                "exercises": len(document.get("exercises", [])),
            },
        )
    shown = content.view(document, with_answers=True)
    assert isinstance(shown, ManagedContentOut)
    return shown
