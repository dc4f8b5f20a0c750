"""Queries on enrollments and lesson_activity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import exists as sql_exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from oneenglish.core import clock
from oneenglish.db import postgres
from oneenglish.enrollments.models import (
    Enrollment,
    LessonActivity,
    QuizAnswer,
    StudyClock,
    StudyDay,
)


async def insert(db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> Enrollment:
    enrollment = Enrollment(user_id=user_id, course_id=course_id)
    if (at := clock.simulated_now()) is not None:
        enrollment.created_at = at
    db.add(enrollment)
    await db.flush()
    return enrollment


async def get(db: AsyncSession, enrollment_id: uuid.UUID) -> Enrollment | None:
    return await db.get(Enrollment, enrollment_id)


async def exists(db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> bool:
    """On the driver: asked on every lesson view."""
    return await postgres.fetch_one(db, ENROLLED_SQL, user_id, course_id) is not None


ENROLLED_SQL = "SELECT id FROM enrollments WHERE user_id = $1 AND course_id = $2"


async def id_of(db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> uuid.UUID | None:
    """On the driver: asked on every learning write."""
    row = await postgres.fetch_one(db, ENROLLED_SQL, user_id, course_id)
    return None if row is None else row[0]


async def of_user_in_course(
    db: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, *, for_update: bool = False
) -> Enrollment | None:
    query = select(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.course_id == course_id
    )
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


async def page(
    db: AsyncSession, where: ColumnElement[bool], limit: int, offset: int
) -> tuple[Sequence[Enrollment], int]:
    total = await db.scalar(select(func.count()).select_from(Enrollment).where(where))
    rows = await db.scalars(
        select(Enrollment)
        .where(where)
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total or 0


def of_user(user_id: uuid.UUID) -> ColumnElement[bool]:
    return Enrollment.user_id == user_id


def of_course(course_id: uuid.UUID) -> ColumnElement[bool]:
    return Enrollment.course_id == course_id


async def count_of_course(db: AsyncSession, course_id: uuid.UUID) -> int:
    return (await db.scalar(select(func.count()).where(Enrollment.course_id == course_id))) or 0


async def delete_row(db: AsyncSession, enrollment_id: uuid.UUID) -> bool:
    result = await db.execute(delete(Enrollment).where(Enrollment.id == enrollment_id))
    return bool(getattr(result, "rowcount", 0))


async def delete_of_course(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await db.scalars(
        delete(Enrollment).where(Enrollment.course_id == course_id).returning(Enrollment.id)
    )
    return list(rows)


@dataclass(frozen=True)
class ActivityTotals:
    time_spent_seconds: int
    completed_at: datetime | None
    completed_steps: list[str]
    best_quiz_percent: Decimal | None


async def add_activity(
    db: AsyncSession,
    enrollment: Enrollment,
    lesson_id: uuid.UUID,
    *,
    seconds: int,
    steps: Sequence[str],
    quiz_percent: float | None,
) -> ActivityTotals:
    """Add time, steps (a set union) and a quiz score (the best is kept): atomically in the
    row, so concurrent calls never lose one. Completion is complete_lesson's. Today (UTC)
    becomes one of the learner's study days in the course, in the same statement."""
    day = (
        pg_insert(StudyDay)
        .values(
            course_id=enrollment.course_id,
            day=clock.now().astimezone(UTC).date(),
            user_id=enrollment.user_id,
        )
        .on_conflict_do_nothing()
        .cte("study_day")
    )
    enrollment_id = enrollment.id
    stmt = pg_insert(LessonActivity).values(
        enrollment_id=enrollment_id,
        lesson_id=lesson_id,
        time_spent_seconds=seconds,
        completed_steps=sorted(set(steps)),
        best_quiz_percent=quiz_percent,
        last_activity_at=clock.sql_now(),
    )
    union = text(
        "ARRAY(SELECT DISTINCT s FROM unnest(lesson_activity.completed_steps "
        "|| excluded.completed_steps) AS s ORDER BY s)"
    )
    row = (
        await db.execute(
            stmt.add_cte(day)
            .on_conflict_do_update(
                index_elements=[LessonActivity.enrollment_id, LessonActivity.lesson_id],
                set_={
                    "time_spent_seconds": LessonActivity.time_spent_seconds
                    + stmt.excluded.time_spent_seconds,
                    "completed_steps": union,
                    "best_quiz_percent": func.greatest(
                        LessonActivity.best_quiz_percent, stmt.excluded.best_quiz_percent
                    ),
                    "last_activity_at": clock.sql_now(),
                },
            )
            .returning(
                LessonActivity.time_spent_seconds,
                LessonActivity.completed_at,
                LessonActivity.completed_steps,
                LessonActivity.best_quiz_percent,
            )
        )
    ).one()
    return ActivityTotals(
        row.time_spent_seconds, row.completed_at, list(row.completed_steps), row.best_quiz_percent
    )


@dataclass(frozen=True)
class AnsweredExercise:
    exercise_id: str
    type: str
    points: float
    max_points: int
    correct: bool


async def add_quiz_answers(
    db: AsyncSession,
    enrollment: Enrollment,
    lesson_id: uuid.UUID,
    attempt_id: uuid.UUID,
    answers: Sequence[AnsweredExercise],
) -> None:
    """Each graded exercise of an attempt, in one statement; whether it is the learner's first
    attempt at the lesson is read in it (exact: the caller holds the enrollment's lock)."""
    if not answers:
        return
    earlier = (
        select(QuizAnswer.attempt_id)
        .where(QuizAnswer.enrollment_id == enrollment.id, QuizAnswer.lesson_id == lesson_id)
        .limit(1)
    )
    first = not await db.scalar(select(sql_exists(earlier)))
    at = clock.now()
    await db.execute(
        pg_insert(QuizAnswer).values(
            [
                {
                    "attempt_id": attempt_id,
                    "exercise_id": a.exercise_id,
                    "enrollment_id": enrollment.id,
                    "user_id": enrollment.user_id,
                    "course_id": enrollment.course_id,
                    "lesson_id": lesson_id,
                    "type": a.type,
                    "points": a.points,
                    "max_points": a.max_points,
                    "correct": a.correct,
                    "first_attempt": first,
                    "submitted_at": at,
                }
                for a in answers
            ]
        )
    )


async def complete_lesson(
    db: AsyncSession, enrollment_id: uuid.UUID, lesson_id: uuid.UUID
) -> datetime:
    """Mark the lesson completed now (kept from the first time)."""
    completed_at: datetime | None = await db.scalar(
        update(LessonActivity)
        .where(LessonActivity.enrollment_id == enrollment_id, LessonActivity.lesson_id == lesson_id)
        .values(completed_at=func.coalesce(LessonActivity.completed_at, clock.sql_now()))
        .returning(LessonActivity.completed_at)
    )
    assert completed_at is not None  # the row was upserted just before, under the same lock
    return completed_at


async def lesson_completed(
    db: AsyncSession, enrollment_id: uuid.UUID, lesson_id: uuid.UUID
) -> bool:
    return bool(
        await db.scalar(
            select(
                sql_exists().where(
                    LessonActivity.enrollment_id == enrollment_id,
                    LessonActivity.lesson_id == lesson_id,
                    LessonActivity.completed_at.is_not(None),
                )
            )
        )
    )


# The study clock's update, in one statement: ON CONFLICT DO UPDATE locks the learner's row
# and sees its latest version, so concurrent updates (of any of their lessons, in any course)
# apply one after another. `ws` is where this update's window starts: the later of the clock
# and `now - claimed`; what is credited is the part of [ws, now + slack] the claim covers.
_CREDIT_SQL = text(
    """
    INSERT INTO study_clocks AS c (user_id, credited_until, last_credit_seconds)
    VALUES (:user_id, :first_until, :first_credit)
    ON CONFLICT (user_id) DO UPDATE SET
      credited_until = least(
        greatest(c.credited_until, :ws_floor) + make_interval(secs => :claimed),
        greatest(greatest(c.credited_until, :ws_floor), :ceiling)),
      last_credit_seconds = floor(extract(epoch FROM least(
        greatest(c.credited_until, :ws_floor) + make_interval(secs => :claimed),
        greatest(greatest(c.credited_until, :ws_floor), :ceiling))
        - greatest(c.credited_until, :ws_floor)))
    RETURNING last_credit_seconds
    """
)


async def credit_study_time(
    db: AsyncSession,
    user_id: uuid.UUID,
    claimed: int,
    *,
    now: datetime,
    slack: int,
    studying_since: datetime,
) -> int:
    """The seconds of `claimed` the wall clock allows (models.StudyClock has the rule). A
    learner's first credit starts no earlier than `studying_since` (their enrolment)."""
    ws_floor = now - timedelta(seconds=claimed)
    ceiling = now + timedelta(seconds=slack)
    first_start = max(studying_since, ws_floor)
    first_credit = max(0, min(claimed, int((ceiling - first_start).total_seconds())))
    credited = await db.scalar(
        _CREDIT_SQL,
        {
            "user_id": user_id,
            "first_until": first_start + timedelta(seconds=first_credit),
            "first_credit": first_credit,
            "ws_floor": ws_floor,
            "ceiling": ceiling,
            "claimed": claimed,
        },
    )
    return int(credited or 0)


@dataclass(frozen=True)
class ProgressRow:
    enrollment_id: uuid.UUID
    user_id: uuid.UUID
    progress: Decimal
    completed_at: datetime | None


# The share of the course's published lessons each enrollment completed; completed_at is set
# when it reaches 100 (kept from the first time) and cleared if new lessons bring it below.
_RECOMPUTE_SQL = text(
    """
    UPDATE enrollments AS e SET
      progress = s.progress,
      completed_at = CASE WHEN s.progress = 100
                          THEN coalesce(e.completed_at, CAST(:now AS timestamptz), now()) END,
      last_activity_at = CASE WHEN :touch THEN coalesce(CAST(:now AS timestamptz), now())
                              ELSE e.last_activity_at END
    FROM (
      SELECT e2.id,
             CASE WHEN cardinality(CAST(:published AS uuid[])) = 0 THEN 0
                  ELSE round(100.0 * count(a.lesson_id)
                             / cardinality(CAST(:published AS uuid[])), 2)
             END AS progress
      FROM enrollments AS e2
      LEFT JOIN lesson_activity AS a
        ON a.enrollment_id = e2.id AND a.completed_at IS NOT NULL
       AND a.lesson_id = ANY(CAST(:published AS uuid[]))
      WHERE e2.course_id = :course_id
        AND (CAST(:enrollment_id AS uuid) IS NULL OR e2.id = CAST(:enrollment_id AS uuid))
      GROUP BY e2.id
    ) AS s
    WHERE e.id = s.id
    RETURNING e.id, e.user_id, e.progress, e.completed_at
    """
)


async def recompute_progress(
    db: AsyncSession,
    course_id: uuid.UUID,
    published_lesson_ids: Sequence[uuid.UUID],
    *,
    enrollment_id: uuid.UUID | None = None,
    touch: bool = False,
) -> list[ProgressRow]:
    rows = await db.execute(
        _RECOMPUTE_SQL,
        {
            "course_id": course_id,
            "published": list(published_lesson_ids),
            "enrollment_id": enrollment_id,
            "touch": touch,
            "now": clock.simulated_now(),  # NULL: PostgreSQL's now()
        },
    )
    return [ProgressRow(r.id, r.user_id, r.progress, r.completed_at) for r in rows]


async def progress_of_user(
    db: AsyncSession, user_id: uuid.UUID, published_lessons: Any
) -> list[dict[str, Any]]:
    """One aggregate over the learner's enrollments, their lesson activity and the courses'
    published lessons (a subquery the lessons domain provides)."""
    published = published_lessons.subquery()
    lessons_total = (
        select(func.count())
        .select_from(published)
        .where(published.c.course_id == Enrollment.course_id)
        .scalar_subquery()
    )
    activity = LessonActivity
    completed_published = func.count(activity.lesson_id).filter(
        and_(
            activity.completed_at.is_not(None),
            activity.lesson_id.in_(select(published.c.lesson_id)),
        )
    )
    query = (
        select(
            Enrollment.id.label("enrollment_id"),
            Enrollment.course_id,
            Enrollment.progress,
            Enrollment.completed_at,
            lessons_total.label("lessons_total"),
            completed_published.label("lessons_completed"),
            func.coalesce(func.sum(activity.time_spent_seconds), 0).label("time_spent_seconds"),
            func.max(activity.last_activity_at).label("last_activity_at"),
        )
        .select_from(Enrollment)
        .outerjoin(activity, activity.enrollment_id == Enrollment.id)
        .where(Enrollment.user_id == user_id)
        .group_by(Enrollment.id)
        .order_by(Enrollment.created_at.desc())
    )
    return [dict(r._mapping) for r in await db.execute(query)]


async def existing_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(await db.scalars(select(Enrollment.id).where(Enrollment.id.in_(list(ids)))))


async def share_a_course(
    db: AsyncSession, a: uuid.UUID, b: uuid.UUID, taught_by_a: Any, taught_by_b: Any
) -> bool:
    """Whether `a` and `b` learn in one course, or one teaches a course the other learns in
    (the teaching subqueries come from the courses domain). One round trip."""
    mine = aliased(Enrollment)
    theirs = aliased(Enrollment)
    together = (
        select(mine.course_id)
        .join(theirs, theirs.course_id == mine.course_id)
        .where(mine.user_id == a, theirs.user_id == b)
    )
    taught = select(Enrollment.course_id).where(
        or_(
            and_(Enrollment.user_id == b, Enrollment.course_id.in_(taught_by_a)),
            and_(Enrollment.user_id == a, Enrollment.course_id.in_(taught_by_b)),
        )
    )
    return bool(await db.scalar(select(sql_exists(together) | sql_exists(taught))))


async def enrollments_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[Enrollment]:
    rows = await db.scalars(
        select(Enrollment).where(Enrollment.user_id == user_id).order_by(Enrollment.created_at)
    )
    return rows.all()


async def activity_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[LessonActivity]:
    rows = await db.scalars(
        select(LessonActivity)
        .join(Enrollment, Enrollment.id == LessonActivity.enrollment_id)
        .where(Enrollment.user_id == user_id)
        .order_by(LessonActivity.last_activity_at)
    )
    return rows.all()


async def study_days_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[StudyDay]:
    rows = await db.scalars(
        select(StudyDay).where(StudyDay.user_id == user_id).order_by(StudyDay.day)
    )
    return rows.all()


async def quiz_answers_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[QuizAnswer]:
    rows = await db.scalars(
        select(QuizAnswer)
        .where(QuizAnswer.user_id == user_id)
        .order_by(QuizAnswer.submitted_at, QuizAnswer.exercise_id)
    )
    return rows.all()


async def course_ids_of_user(db: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await db.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user_id)))


async def study_clock_of(db: AsyncSession, user_id: uuid.UUID) -> StudyClock | None:
    return await db.get(StudyClock, user_id)


# -- reports (reports/service.py): one aggregate each, bounded by a date range --------------
# Each is a query builder (the benchmark's floor runs the same statements on the driver) and
# the function that runs it.

Report = Select[*tuple[Any, ...]]


def enrolments_query(course_id: uuid.UUID, start: datetime, end: datetime, bucket: str) -> Report:
    """Enrolments per day or week (ix_enrollments_course_created serves the range)."""
    period = func.date_trunc(bucket, Enrollment.created_at, "UTC")
    return (
        select(period, func.count())
        .where(
            Enrollment.course_id == course_id,
            Enrollment.created_at >= start,
            Enrollment.created_at < end,
        )
        .group_by(period)
        .order_by(period)
    )


async def enrolments_per_bucket(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime, bucket: str
) -> list[tuple[datetime, int]]:
    rows = await db.execute(enrolments_query(course_id, start, end, bucket))
    return [(r[0], int(r[1])) for r in rows]


def completions_query(course_id: uuid.UUID, start: datetime, end: datetime) -> Report:
    """lesson -> (learners who started it, learners who completed it) among the course's
    enrolments, by activity in the range (ix_enrollments_course_created finds them)."""
    completed = func.count().filter(
        LessonActivity.completed_at >= start, LessonActivity.completed_at < end
    )
    return (
        select(LessonActivity.lesson_id, func.count(), completed)
        .join(Enrollment, Enrollment.id == LessonActivity.enrollment_id)
        .where(
            Enrollment.course_id == course_id,
            LessonActivity.last_activity_at >= start,
        )
        .group_by(LessonActivity.lesson_id)
    )


async def completions_per_lesson(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime
) -> dict[uuid.UUID, tuple[int, int]]:
    rows = await db.execute(completions_query(course_id, start, end))
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def time_spent_query(course_id: uuid.UUID, start: datetime, edges: Sequence[int]) -> Report:
    """How many of the course's learners active since `start` spent in total (seconds) less
    than edges[0], between each pair of edges, and at least the last: one scan of their
    activity, bucketed by width_bucket."""
    totals = (
        select(func.sum(LessonActivity.time_spent_seconds).label("seconds"))
        .join(Enrollment, Enrollment.id == LessonActivity.enrollment_id)
        .where(Enrollment.course_id == course_id, LessonActivity.last_activity_at >= start)
        .group_by(LessonActivity.enrollment_id)
        .subquery()
    )
    bucket = func.width_bucket(totals.c.seconds, text(f"ARRAY{[int(e) for e in edges]}::bigint[]"))
    return select(bucket, func.count()).group_by(bucket)


async def time_spent_histogram(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, edges: Sequence[int]
) -> list[int]:
    counts = [0] * (len(edges) + 1)
    for index, count in await db.execute(time_spent_query(course_id, start, edges)):
        counts[int(index)] = int(count)
    return counts


def top_courses_query(start: datetime, end: datetime, limit: int) -> Report:
    """(course, enrolments in the range, of them completed), most enrolled first."""
    completed = func.count(Enrollment.completed_at)
    return (
        select(Enrollment.course_id, func.count(), completed)
        .where(Enrollment.created_at >= start, Enrollment.created_at < end)
        .group_by(Enrollment.course_id)
        .order_by(func.count().desc(), Enrollment.course_id)
        .limit(limit)
    )


async def top_courses(
    db: AsyncSession, start: datetime, end: datetime, limit: int
) -> list[tuple[uuid.UUID, int, int]]:
    rows = await db.execute(top_courses_query(start, end, limit))
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def active_learners_query(
    course_id: uuid.UUID | None, start: date, end: date, bucket: str
) -> Report:
    """Distinct learners with a study day in each day or week of [start, end] (inclusive):
    of one course (its primary key serves the range) or of the platform (ix_study_days_day_user)."""
    period = func.date_trunc(bucket, StudyDay.day)
    query = (
        select(period, func.count(StudyDay.user_id.distinct()))
        .where(StudyDay.day >= start, StudyDay.day <= end)
        .group_by(period)
        .order_by(period)
    )
    return query if course_id is None else query.where(StudyDay.course_id == course_id)


async def active_learners_per_bucket(
    db: AsyncSession, course_id: uuid.UUID | None, start: date, end: date, bucket: str
) -> list[tuple[datetime, int]]:
    rows = await db.execute(active_learners_query(course_id, start, end, bucket))
    return [(r[0].replace(tzinfo=UTC), int(r[1])) for r in rows]


@dataclass(frozen=True)
class ExerciseScore:
    lesson_id: uuid.UUID
    exercise_id: str
    type: str
    attempts: int
    learners: int
    average_percent: float
    correct_rate: float


def exercise_scores_query(
    course_id: uuid.UUID, start: datetime, end: datetime, limit: int
) -> Report:
    """Per exercise of the course's attempts in the range: the average score (points over
    the maximum, across attempts), how often it was right and how many learners made their
    first attempt at it, lowest average first
    (ix_quiz_answers_course_submitted serves the range)."""
    average = func.round(
        100 * func.sum(QuizAnswer.points) / func.nullif(func.sum(QuizAnswer.max_points), 0), 2
    )
    correct = func.round(
        cast(100 * func.count().filter(QuizAnswer.correct), Numeric) / func.count(), 2
    )
    return (
        select(
            QuizAnswer.lesson_id,
            QuizAnswer.exercise_id,
            func.min(QuizAnswer.type),
            func.count(),
            func.count().filter(QuizAnswer.first_attempt),
            average,
            correct,
        )
        .where(
            QuizAnswer.course_id == course_id,
            QuizAnswer.submitted_at >= start,
            QuizAnswer.submitted_at < end,
        )
        .group_by(QuizAnswer.lesson_id, QuizAnswer.exercise_id)
        .order_by(average.asc().nulls_last(), QuizAnswer.lesson_id, QuizAnswer.exercise_id)
        .limit(limit)
    )


async def exercise_scores(
    db: AsyncSession, course_id: uuid.UUID, start: datetime, end: datetime, limit: int
) -> list[ExerciseScore]:
    rows = await db.execute(exercise_scores_query(course_id, start, end, limit))
    return [
        ExerciseScore(r[0], r[1], r[2], int(r[3]), int(r[4]), float(r[5] or 0), float(r[6]))
        for r in rows
    ]
