"""Delete a lesson: unpublished at once; then its content and every learner's progress on it
(MongoDB); then the row (positions close up, the progress of the course's enrollments is
recomputed) and its audit entry, in the transaction that completes the saga. Forward only
(workflows/removal.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.core.context import Actor
from oneenglish.core.principal import Principal
from oneenglish.enrollments import service as enrollments
from oneenglish.files import service as files
from oneenglish.lessons import service as lessons
from oneenglish.progress import service as progress
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.runner import SagaRunner
from oneenglish.sagas.workflow import (
    OnFailure,
    SagaKind,
    SagaPayload,
    Step,
    StepContext,
    Workflow,
    register,
)
from oneenglish.workflows.removal import removal_pending


class LessonRemoval(SagaPayload):
    lesson_id: uuid.UUID
    actor_id: uuid.UUID | None = None


KIND = SagaKind("delete_lesson", LessonRemoval)
Context = StepContext[LessonRemoval]


async def _lesson_documents(context: Context) -> None:
    lesson_id = context.payload.lesson_id
    await content.delete_content(context.mongo, lesson_id)
    await progress.delete_of_lesson(context.mongo, lesson_id)
    await files.delete_of_lesson(context.mongo, lesson_id)


async def _lesson_row(db: AsyncSession, context: Context) -> None:
    lesson_id = context.payload.lesson_id
    deleted = await lessons.delete_lesson_row(db, lesson_id)
    if deleted is not None:
        await enrollments.refresh_course_progress(db, deleted.course_id)
        actor = Actor(context.payload.actor_id, None, None)
        audit.record(db, actor, "lesson.deleted", "lesson", lesson_id, before=deleted)


WORKFLOW = register(
    Workflow(
        kind=KIND,
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
        KIND,
        LessonRemoval(lesson_id=lesson_id, actor_id=actor.user_id),
        subject_id=lesson_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await runner.commit_and_run(db, saga, or_raise=removal_pending("lesson"))
