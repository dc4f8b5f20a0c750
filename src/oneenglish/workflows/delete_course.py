"""Delete a course: withdrawn from the catalogue at once; then its lessons' content and
progress (MongoDB); then its enrollments (when forced) and the row (lessons cascade) with its
audit entry, in the transaction that completes the saga. A course with learners is deleted
only by an administrator who forces it (409 otherwise). Forward only (workflows/removal.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.courses.schemas import CourseOut
from oneenglish.enrollments import service as enrollments
from oneenglish.files import service as files
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


class CourseRemoval(SagaPayload):
    course_id: uuid.UUID
    before: dict[str, Any]  # the course as it was, for the audit entry
    actor_id: uuid.UUID | None = None


KIND = SagaKind("delete_course", CourseRemoval)
Context = StepContext[CourseRemoval]


async def _course_documents(context: Context) -> None:
    course_id = context.payload.course_id
    await content.delete_course_content(context.mongo, course_id)
    await progress.delete_of_course(context.mongo, course_id)
    await files.delete_of_course(context.mongo, course_id)


async def _course_row(db: AsyncSession, context: Context) -> None:
    course_id = context.payload.course_id
    await enrollments.delete_all_of_course(db, course_id)
    if await courses.delete_course_row(db, course_id):
        actor = Actor(context.payload.actor_id, None, None)
        audit.record(
            db, actor, "course.deleted", "course", course_id, before=context.payload.before
        )


WORKFLOW = register(
    Workflow(
        kind=KIND,
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
        KIND,
        CourseRemoval(course_id=course_id, before=before, actor_id=actor.user_id),
        subject_id=course_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await runner.commit_and_run(db, saga, or_raise=removal_pending("course"))
