"""Enrollments: joining and leaving courses, lesson activity and the progress it makes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core import clock
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, NotFound, PaymentRequired
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db import rls
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.enrollments import repository
from oneenglish.enrollments.models import Enrollment
from oneenglish.enrollments.schemas import (
    CourseProgress,
    CourseSummary,
    EnrollmentOut,
    MyEnrollmentOut,
    RosterEntry,
)
from oneenglish.events import service as events
from oneenglish.idempotency import service as idempotency
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.lessons import service as lessons
from oneenglish.progress import completion
from oneenglish.settings import Settings
from oneenglish.users import service as users


async def enroll(
    db: AsyncSession,
    settings: Settings,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    idempotent: IdempotentRequest | None = None,
) -> EnrollmentOut:
    """A free course, joined at once; a paid one is bought (payments: its checkout)."""
    await idempotency.replay_if_known(db, idempotent)
    course = await courses.get_visible(db, principal, course_id)
    if not course.is_published:
        raise Conflict("Only published courses accept enrollments")
    if course.price > 0:
        raise PaymentRequired(
            f"This course costs {course.price} {course.currency}: buy it with "
            f"POST /api/courses/{course_id}/checkout",
            checkout=f"/api/courses/{course_id}/checkout",
        )
    out = await admit(db, actor, principal.id, course.id, course.title)
    await idempotency.remember(db, idempotent, status_code=201, body=out, user_id=principal.id)
    return out


async def admit(
    db: AsyncSession,
    actor: Actor,
    learner_id: uuid.UUID,
    course_id: uuid.UUID,
    course_title: str,
) -> EnrollmentOut:
    """The enrolment row, its audit entry and the ENROLLED event (its MongoDB side and
    notifications follow from the event): a free course's join, or a paid order's."""
    try:
        async with db.begin_nested():
            enrollment = await repository.insert(db, learner_id, course_id)
    except IntegrityError as exc:
        raise Conflict("You are already enrolled in this course") from exc
    await db.refresh(enrollment)
    out = EnrollmentOut.model_validate(enrollment)
    audit.record(db, actor, "enrollment.created", "enrollment", enrollment.id, after=out)
    events.publish(
        db,
        events.ENROLLED,
        learner_id,
        {
            "courseId": str(course_id),
            "courseTitle": course_title,
            "enrollmentId": str(enrollment.id),
        },
    )
    return out


async def require_enrollment(
    db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, *, for_update: bool = False
) -> Enrollment:
    enrollment = await repository.of_user_in_course(db, user_id, course_id, for_update=for_update)
    if enrollment is None:
        raise Forbidden("Enrol in the course first")
    return enrollment


async def is_enrolled(db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> bool:
    return await repository.exists(db, user_id, course_id)


async def enrollment_of(
    db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID
) -> uuid.UUID | None:
    return await repository.id_of(db, user_id, course_id)


async def lesson_completed(
    db: AsyncSession, enrollment_id: uuid.UUID, lesson_id: uuid.UUID
) -> bool:
    return await repository.lesson_completed(db, enrollment_id, lesson_id)


async def get_for_unenrollment(
    db: AsyncSession, principal: Principal, enrollment_id: uuid.UUID
) -> EnrollmentOut:
    if principal.can("enrollments", "delete"):
        await rls.elevate(db)  # staff may remove anyone's enrollment (a teacher, their courses')
    enrollment = await repository.get(db, enrollment_id)
    if enrollment is None:
        raise NotFound(f"No enrollment {enrollment_id}")
    if enrollment.user_id != principal.id and not principal.can("enrollments", "delete"):
        course = await courses.get_visible(db, principal, enrollment.course_id)
        if not courses.can_manage(principal, course):
            raise NotFound(f"No enrollment {enrollment_id}")
    return EnrollmentOut.model_validate(enrollment)


async def get_out(db: AsyncSession, enrollment_id: uuid.UUID) -> EnrollmentOut | None:
    enrollment = await repository.get(db, enrollment_id)
    return None if enrollment is None else EnrollmentOut.model_validate(enrollment)


async def delete_enrollment_row(db: AsyncSession, enrollment_id: uuid.UUID) -> bool:
    return await repository.delete_row(db, enrollment_id)


async def list_mine(
    db: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[list[MyEnrollmentOut], int]:
    rows, total = await repository.page(db, repository.of_user(principal.id), limit, offset)
    summaries = await _course_summaries(db, principal, [e.course_id for e in rows])
    return [
        MyEnrollmentOut(
            **EnrollmentOut.model_validate(e).model_dump(), course=summaries.get(e.course_id)
        )
        for e in rows
    ], total


async def list_of_course(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[RosterEntry], int]:
    course = await courses.get_visible(db, principal, course_id)
    if not (principal.can("enrollments", "read") or courses.can_manage(principal, course)):
        raise Forbidden("Only the course's teacher or an administrator sees its learners")
    await rls.elevate(db)  # allowed just above: every learner of this course
    rows, total = await repository.page(db, repository.of_course(course_id), limit, offset)
    learners = await users.cards(db, (e.user_id for e in rows))
    return [
        RosterEntry(**EnrollmentOut.model_validate(e).model_dump(), learner=learners.get(e.user_id))
        for e in rows
    ], total


async def count_for_course(db: AsyncSession, course_id: uuid.UUID) -> int:
    return await repository.count_of_course(db, course_id)


async def delete_all_of_course(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.delete_of_course(db, course_id)


@dataclass(frozen=True)
class ActivityResult:
    enrollment_id: uuid.UUID
    time_credited_seconds: int
    time_spent_seconds: int
    lesson_completed_at: datetime | None
    progress: Decimal
    course_completed_at: datetime | None
    missing: completion.Missing | None  # what the rule still needs (None: not checked)
    best_quiz_percent: Decimal | None


@dataclass(frozen=True)
class Activity:
    """What one progress update or quiz attempt adds to a learner's lesson."""

    seconds: int = 0
    steps: Sequence[str] = ()
    quiz_percent: float | None = None
    claims_completion: bool = False
    # The lesson's completion rule, when its content was read; None: the update can neither
    # complete the lesson nor be checked against the rule (time only).
    rule: completion.Rule | None = None
    # A quiz attempt's graded exercises (those a human need not review), kept for the reports.
    attempt_id: uuid.UUID | None = None
    answers: Sequence[AnsweredExercise] = ()


AnsweredExercise = repository.AnsweredExercise


async def record_activity(
    db: AsyncSession,
    user_id: uuid.UUID,
    course_id: uuid.UUID,
    course_title: str,
    lesson_id: uuid.UUID,
    activity: Activity,
    *,
    time_slack_seconds: int,
) -> ActivityResult:
    """Add a learner's time, steps and quiz score for a lesson, complete it when its rule
    holds, and recompute the enrollment's progress.

    The enrollment row is locked first, so concurrent updates for different lessons of one
    learner are serialised and the progress is exact; the time is credited within the
    learner's study clock (models.StudyClock); a claimed completion the rule does not allow
    is a 409 naming what is missing, and nothing of the update is kept. The events of a first
    completion are published in this same transaction."""
    enrollment = await require_enrollment(db, user_id, course_id, for_update=True)
    credited = 0
    if activity.seconds:
        credited = await repository.credit_study_time(
            db,
            user_id,
            activity.seconds,
            now=clock.now(),
            slack=time_slack_seconds,
            studying_since=enrollment.created_at,
        )
    totals = await repository.add_activity(
        db,
        enrollment,
        lesson_id,
        seconds=credited,
        steps=activity.steps,
        quiz_percent=activity.quiz_percent,
    )
    if activity.attempt_id is not None:
        await repository.add_quiz_answers(
            db, enrollment, lesson_id, activity.attempt_id, activity.answers
        )
    completed_at = totals.completed_at
    missing = None
    if activity.rule is not None and completed_at is None:
        missing = completion.missing(
            activity.rule, totals.completed_steps, totals.best_quiz_percent
        )
        if activity.claims_completion and missing:
            raise Conflict(
                f"This lesson is not complete yet: {missing.describe()}", **missing.as_problem()
            )
        if completion.completes(activity.rule, missing, activity.claims_completion):
            completed_at = await repository.complete_lesson(db, enrollment.id, lesson_id)
    newly_completed = totals.completed_at is None and completed_at is not None
    was_completed = enrollment.completed_at is not None
    published = await lessons.published_lesson_ids(db, course_id)
    [row] = await repository.recompute_progress(
        db, course_id, published, enrollment_id=enrollment.id, touch=True
    )
    if newly_completed:
        events.publish(
            db,
            events.LESSON_COMPLETED,
            user_id,
            {"courseId": str(course_id), "lessonId": str(lesson_id), "progress": str(row.progress)},
        )
    if row.completed_at is not None and not was_completed:
        events.publish(
            db,
            events.COURSE_COMPLETED,
            user_id,
            {"courseId": str(course_id), "courseTitle": course_title},
        )
    return ActivityResult(
        enrollment.id,
        credited,
        totals.time_spent_seconds,
        completed_at,
        row.progress,
        row.completed_at,
        missing,
        totals.best_quiz_percent,
    )


async def refresh_course_progress(db: AsyncSession, course_id: uuid.UUID) -> None:
    """After lessons were published, unpublished or deleted: every enrollment of the course."""
    published = await lessons.published_lesson_ids(db, course_id)
    await repository.recompute_progress(db, course_id, published)


async def progress_of(db: AsyncSession, user_id: uuid.UUID) -> list[CourseProgress]:
    rows = await repository.progress_of_user(db, user_id, lessons.published_lessons_query())
    return [CourseProgress(**row) for row in rows]


async def existing_enrollment_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return await repository.existing_ids(db, ids)


async def _course_summaries(
    db: AsyncSession, principal: Principal, course_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CourseSummary]:
    found = await courses.summaries(db, course_ids)
    return {c.id: CourseSummary(id=c.id, title=c.title, slug=c.slug, level=c.level) for c in found}


async def share_a_course(db: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> bool:
    """Two people meet in a course: both learn in it, or one teaches it to the other. The
    answer needs the other's enrollments, which Row Level Security hides: it is read in the
    system scope, and only the yes or no leaves it."""
    async with rls.elevated(db):
        return await repository.share_a_course(
            db, a, b, courses.taught_by_query(a), courses.taught_by_query(b)
        )


async def course_ids_of(db: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.course_ids_of_user(db, user_id)


async def _export_enrollments(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        EnrollmentOut.model_validate(e).model_dump(mode="json")
        for e in await repository.enrollments_of_user(db, user_id)
    ]


async def _export_lesson_activity(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {
            "enrollment_id": str(a.enrollment_id),
            "lesson_id": str(a.lesson_id),
            "time_spent_seconds": a.time_spent_seconds,
            "completed_at": a.completed_at.isoformat() if a.completed_at else None,
            "last_activity_at": a.last_activity_at.isoformat(),
        }
        for a in await repository.activity_of_user(db, user_id)
    ]


async def _export_study_clock(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    clock_row = await repository.study_clock_of(db, user_id)
    if clock_row is None:
        return []
    return [
        {
            "credited_until": clock_row.credited_until.isoformat(),
            "last_credit_seconds": clock_row.last_credit_seconds,
        }
    ]


async def _export_study_days(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {"course_id": str(d.course_id), "day": d.day.isoformat()}
        for d in await repository.study_days_of_user(db, user_id)
    ]


async def _export_quiz_answers(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {
            "attempt_id": str(a.attempt_id),
            "course_id": str(a.course_id),
            "lesson_id": str(a.lesson_id),
            "exercise_id": a.exercise_id,
            "type": a.type,
            "points": float(a.points),
            "max_points": a.max_points,
            "correct": a.correct,
            "first_attempt": a.first_attempt,
            "submitted_at": a.submitted_at.isoformat(),
        }
        for a in await repository.quiz_answers_of_user(db, user_id)
    ]


register_user_table(
    UserTable("study_days", "study_days", _export_study_days),
    UserTable("quiz_answers", "quiz_answers", _export_quiz_answers),
    UserTable("enrollments", "enrollments", _export_enrollments),
    UserTable("study_clocks", "study_clock", _export_study_clock),
    UserTable("lesson_activity", "lesson_activity", _export_lesson_activity),
)


async def enrolments_over_time(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime, bucket: str
) -> list[tuple[datetime, int]]:
    async with rls.elevated(db):  # every learner's row; the caller was authorised for the course
        return await repository.enrolments_per_bucket(db, course_id, start, end, bucket)


async def completions_per_lesson(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime
) -> dict[uuid.UUID, tuple[int, int]]:
    async with rls.elevated(db):
        return await repository.completions_per_lesson(db, course_id, start, end)


async def time_spent_histogram(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, edges: Sequence[int]
) -> list[int]:
    async with rls.elevated(db):
        return await repository.time_spent_histogram(db, course_id, start, edges)


async def top_courses(
    db: AsyncSession, start: datetime, end: datetime, limit: int
) -> list[tuple[uuid.UUID, int, int]]:
    async with rls.elevated(db):
        return await repository.top_courses(db, start, end, limit)


async def active_learners(
    db: AsyncSession, course_id: uuid.UUID | None, start: date, end: date, bucket: str
) -> list[tuple[datetime, int]]:
    """Of one course (its reports' caller was authorised for it) or of the platform."""
    async with rls.elevated(db):
        return await repository.active_learners_per_bucket(db, course_id, start, end, bucket)


ExerciseScore = repository.ExerciseScore


async def exercise_scores(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime, limit: int
) -> list[ExerciseScore]:
    async with rls.elevated(db):
        return await repository.exercise_scores(db, course_id, start, end, limit)
