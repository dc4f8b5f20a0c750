"""Leave a course: the enrollment row goes at once (no more progress can be recorded), with
its audit entry; then the learner's progress documents for that enrollment (MongoDB).
Forward only (workflows/removal.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.principal import Principal
from oneenglish.enrollments import service as enrollments
from oneenglish.enrollments.schemas import EnrollmentOut
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


class Departure(SagaPayload):
    enrollment_id: uuid.UUID
    user_id: uuid.UUID


KIND = SagaKind("unenroll", Departure)
Context = StepContext[Departure]


async def _enrollment_documents(context: Context) -> None:
    await progress.delete_of_enrollment(context.mongo, context.payload.enrollment_id)
    await files.delete_of_enrollment(context.mongo, context.payload.enrollment_id)


WORKFLOW = register(
    Workflow(
        kind=KIND,
        steps=(Step("documents", _enrollment_documents),),
        on_failure=OnFailure.RETRY,
    )
)


async def leave_course(
    db: AsyncSession,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    enrollment_id: uuid.UUID,
) -> None:
    enrollment = await enrollments.get_for_unenrollment(db, principal, enrollment_id)
    await end_enrollment(db, runner, actor, enrollment)


async def end_enrollment(
    db: AsyncSession,
    runner: SagaRunner,
    actor: Actor,
    enrollment: EnrollmentOut,
    *,
    raise_if_pending: bool = True,
) -> None:
    """The row goes now, its documents next (a saga); commits. Also what a refund does (which
    succeeded whatever MongoDB's state: the relay removes the documents later if it is down)."""
    await enrollments.delete_enrollment_row(db, enrollment.id)
    audit.record(db, actor, "enrollment.deleted", "enrollment", enrollment.id, before=enrollment)
    saga = enqueue(
        db,
        KIND,
        Departure(enrollment_id=enrollment.id, user_id=enrollment.user_id),
        subject_id=enrollment.id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    pending = removal_pending("enrollment") if raise_if_pending else None
    await runner.commit_and_run(db, saga, or_raise=pending)
