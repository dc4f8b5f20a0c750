"""Removing learning material or a learner from a course, across both databases.

All three only move forward (what is deleted is not restored): the PostgreSQL side is taken out
of use at once, the MongoDB documents are deleted under the saga (deletes by key: idempotent),
and the saga's completion does the remaining PostgreSQL work. If MongoDB is down the client gets
a 503 that says the removal will finish by itself; the relay does it once MongoDB is back.

- delete a lesson: unpublished at once; then its content and every learner's progress on it;
  then the row (positions close up, progress of the course's enrollments is recomputed).
- delete a course: withdrawn from the catalogue at once; then its lessons' content and progress;
  then its enrollments (when forced) and the row (lessons cascade).
- leave a course: the enrollment row goes at once (no more progress can be recorded); then the
  learner's progress documents for that enrollment.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, Unavailable
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.courses.schemas import CourseOut
from oneenglish.enrollments import service as enrollments
from oneenglish.lessons import service as lessons
from oneenglish.progress import service as progress
from oneenglish.sagas.models import COMPLETED
from oneenglish.sagas.runner import Enqueued, SagaRunner, enqueue
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register

DELETE_LESSON = "delete_lesson"
DELETE_COURSE = "delete_course"
UNENROLL = "unenroll"


def _actor(payload: dict[str, object]) -> Actor:
    actor_id = payload.get("actor_id")
    return Actor(uuid.UUID(str(actor_id)) if actor_id else None, None, None)


# -- delete a lesson -----------------------------------------------------------------------


async def _lesson_documents(context: StepContext) -> None:
    lesson_id = context.payload["lesson_id"]
    await content.delete_content(context.mongo, lesson_id)
    await progress.delete_of_lesson(context.mongo, lesson_id)


async def _lesson_row(db: AsyncSession, context: StepContext) -> None:
    lesson_id = uuid.UUID(context.payload["lesson_id"])
    deleted = await lessons.delete_lesson_row(db, lesson_id)
    if deleted is not None:
        await enrollments.refresh_course_progress(db, deleted.course_id)
        audit.record(
            db, _actor(context.payload), "lesson.deleted", "lesson", lesson_id, before=deleted
        )


register(
    Workflow(
        kind=DELETE_LESSON,
        steps=(Step("documents", _lesson_documents),),
        on_failure=OnFailure.RETRY,
        complete=_lesson_row,
    )
)


async def delete_lesson(
    db: AsyncSession, runner: SagaRunner, principal: Principal, actor: Actor, lesson_id: uuid.UUID
) -> None:
    access = await lessons.get_managed(db, principal, lesson_id)
    await lessons.withdraw(db, lesson_id)
    await enrollments.refresh_course_progress(db, access.course.id)
    saga = enqueue(
        db,
        DELETE_LESSON,
        {"lesson_id": str(lesson_id), "actor_id": str(actor.user_id) if actor.user_id else None},
        subject_id=lesson_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await _finish(db, runner, saga, "lesson")


# -- delete a course -----------------------------------------------------------------------


async def _course_documents(context: StepContext) -> None:
    course_id = context.payload["course_id"]
    await content.delete_course_content(context.mongo, course_id)
    await progress.delete_of_course(context.mongo, course_id)


async def _course_row(db: AsyncSession, context: StepContext) -> None:
    course_id = uuid.UUID(context.payload["course_id"])
    await enrollments.delete_all_of_course(db, course_id)
    if await courses.delete_course_row(db, course_id):
        audit.record(
            db,
            _actor(context.payload),
            "course.deleted",
            "course",
            course_id,
            before=context.payload.get("before"),
        )


register(
    Workflow(
        kind=DELETE_COURSE,
        steps=(Step("documents", _course_documents),),
        on_failure=OnFailure.RETRY,
        complete=_course_row,
    )
)


async def delete_course(
    db: AsyncSession,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    *,
    force: bool,
) -> None:
    course = await courses.get_managed(db, principal, course_id, for_update=True)
    learners = await enrollments.count_for_course(db, course_id)
    if learners and not force:
        raise Conflict(
            f"The course has {learners} enrollments; an administrator may force the deletion",
            enrollments=learners,
        )
    if learners and not principal.can("courses", "delete"):
        raise Forbidden("Deleting a course with enrollments requires courses:delete")
    before = CourseOut.model_validate(course).model_dump(mode="json")
    await courses.withdraw(db, course_id)
    saga = enqueue(
        db,
        DELETE_COURSE,
        {
            "course_id": str(course_id),
            "before": before,
            "actor_id": str(actor.user_id) if actor.user_id else None,
        },
        subject_id=course_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await _finish(db, runner, saga, "course")


# -- leave a course ------------------------------------------------------------------------


async def _enrollment_documents(context: StepContext) -> None:
    await progress.delete_of_enrollment(context.mongo, context.payload["enrollment_id"])


register(
    Workflow(
        kind=UNENROLL,
        steps=(Step("documents", _enrollment_documents),),
        on_failure=OnFailure.RETRY,
    )
)


async def unenroll(
    db: AsyncSession,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    enrollment_id: uuid.UUID,
) -> None:
    enrollment = await enrollments.get_for_unenrollment(db, principal, enrollment_id)
    await enrollments.delete_enrollment_row(db, enrollment_id)
    audit.record(db, actor, "enrollment.deleted", "enrollment", enrollment_id, before=enrollment)
    saga = enqueue(
        db,
        UNENROLL,
        {"enrollment_id": str(enrollment_id), "user_id": str(enrollment.user_id)},
        subject_id=enrollment_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await _finish(db, runner, saga, "enrollment")


async def _finish(db: AsyncSession, runner: SagaRunner, saga: Enqueued, what: str) -> None:
    await db.commit()
    if await runner.run_now(saga) != COMPLETED:
        raise Unavailable(
            f"MongoDB is unavailable. The {what} is already out of use and its removal will "
            "complete automatically once MongoDB is back.",
            database="MongoDB",
            removal="pending",
        )
