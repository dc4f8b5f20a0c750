"""Record a learner's progress on a lesson, across both databases.

1. One PostgreSQL transaction, after locking the enrollment row (so concurrent updates of one
   learner serialise and the course progress is exact): the time the learner's study clock
   allows added to the lesson's totals (enrollments/models.py:StudyClock), the steps added,
   the lesson completed when its rule holds (progress/completion.py; a claimed completion it
   does not allow is a 409 naming what is missing, and nothing is kept), the enrollment's
   progress recomputed, the events of a completion, the audit entry and the saga's intent.
2. Under the saga, the MongoDB detail (steps, notes, PostgreSQL's totals): idempotent,
   order-free updates ($addToSet, $max, notes only if newer), so a replay never double-counts.
MongoDB down after the commit: 202 `synced: false`, applied by the relay later (never a 503:
the time was already counted, and a retry would count it twice)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.core import clock
from oneenglish.core.context import Actor
from oneenglish.core.errors import InvalidInput
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.enrollments import service as enrollments
from oneenglish.lessons import service as lessons
from oneenglish.progress import completion
from oneenglish.progress import service as progress
from oneenglish.progress.schemas import CompletionMissing, ProgressDetail, ProgressIn, ProgressOut
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.runner import SagaRunner
from oneenglish.sagas.workflow import OnFailure, SagaKind, Step, StepContext, Workflow, register
from oneenglish.views.lesson_view import enrolled_access

KIND = SagaKind("record_progress", ProgressDetail)


async def _apply_detail(context: StepContext[ProgressDetail]) -> None:
    await progress.apply_progress(context.mongo, context.payload)


WORKFLOW = register(Workflow(KIND, (Step("detail", _apply_detail),), on_failure=OnFailure.RETRY))


def _check_steps(body: ProgressIn, document: MongoDocument | None) -> None:
    unknown = sorted(
        set(body.completed_steps) - (content.item_ids(document) if document else set())
    )
    if unknown:
        raise InvalidInput(
            f"No such steps in this lesson: {', '.join(unknown)}",
            errors=[{"loc": ["body", "completed_steps"], "msg": "unknown ids"}],
            unknown=unknown,
        )


def _missing_out(missing: completion.Missing | None) -> CompletionMissing | None:
    if not missing:
        return None
    return CompletionMissing(**missing.as_problem())


def _audited_change(body: ProgressIn, credited: int, progress_now: float) -> dict[str, object]:
    return {
        "completed_steps": body.completed_steps,
        "time_spent_seconds": body.time_spent_seconds,
        "time_credited_seconds": credited,
        "completed": body.completed,
        # The notes are the learner's own words: kept in their progress (erased with them),
        # not in the audit log, which is kept forever.
        "notes_updated": body.notes is not None,
        "course_progress": progress_now,
    }


def _rule(lesson: lessons.VisibleLesson, document: MongoDocument | None) -> completion.Rule:
    return completion.rule_for(lesson.completion, lesson.pass_mark, document)


async def record_progress(
    db: AsyncSession,
    mongo: Database,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: ProgressIn,
) -> ProgressOut:
    # The content is read for named steps and to check a completion against the lesson's rule;
    # time alone (or a manual lesson marked done) needs no MongoDB.
    def needs_content(lesson: lessons.VisibleLesson) -> bool:
        return bool(body.completed_steps) or (
            body.completed and lesson.completion == completion.REQUIREMENTS
        )

    access, document = await enrolled_access(
        db, mongo, principal, lesson_id, needs_content=needs_content
    )
    _check_steps(body, document)
    course = access.course
    # The rule is checked when this update can meet it: it names steps or claims completion.
    evaluates = needs_content(access.lesson) or access.lesson.completion == completion.MANUAL
    result = await enrollments.record_activity(
        db,
        principal.id,
        course.id,
        course.title,
        lesson_id,
        enrollments.Activity(
            seconds=body.time_spent_seconds,
            steps=body.completed_steps,
            claims_completion=body.completed,
            rule=_rule(access.lesson, document) if evaluates else None,
        ),
        time_slack_seconds=runner.settings.study_time_slack_seconds,
    )
    detail = ProgressDetail(
        user_id=str(principal.id),
        lesson_id=str(lesson_id),
        course_id=str(course.id),
        enrollment_id=str(result.enrollment_id),
        steps=body.completed_steps,
        time_spent_total=result.time_spent_seconds,
        completed_at=result.lesson_completed_at,
        notes=body.notes,
        at=clock.now(),
    )
    saga = enqueue(
        db,
        KIND,
        detail,
        subject_id=result.enrollment_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
        user_ids=[principal.id],
    )
    change = _audited_change(body, result.time_credited_seconds, float(result.progress))
    audit.record(db, actor, "progress.recorded", "lesson_progress", detail.key, after=change)
    synced = await runner.commit_and_run(db, saga)
    return ProgressOut(
        lesson_id=lesson_id,
        course_id=course.id,
        enrollment_id=result.enrollment_id,
        time_spent_seconds=result.time_spent_seconds,
        time_credited_seconds=result.time_credited_seconds,
        completed_at=result.lesson_completed_at,
        missing=_missing_out(result.missing),
        course_progress=result.progress,
        course_completed_at=result.course_completed_at,
        synced=synced,
    )
