"""Reports: who may see which, the date range rules, and each report composed from the
aggregate its domain runs (one query per report, never one per learner).

A course's reports are for its teacher and administrators (`courses:read`); a draft or
someone else's course is the same 404 or 403 as elsewhere. Platform reports need `users:read`.
Ranges are inclusive UTC dates, at most a year; reversed or longer ranges are a 422."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core import clock
from oneenglish.core.errors import Forbidden, InvalidInput
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.enrollments import service as enrollments
from oneenglish.lessons import service as lessons
from oneenglish.payments import service as payments
from oneenglish.reports.schemas import (
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    CountPoint,
    DateRange,
    ExerciseReport,
    ExerciseStat,
    FunnelReport,
    FunnelStep,
    RevenuePoint,
    RevenueReport,
    SeriesReport,
    TimeBucket,
    TimeSpentReport,
    TopCourse,
    TopCoursesReport,
)
from oneenglish.users import service as users

# Total time in a course, in minutes: the histogram's edges.
TIME_EDGES_MINUTES = (5, 15, 30, 60, 120, 300, 600)


def date_range(start: date | None, end: date | None) -> DateRange:
    end = end or clock.now().astimezone(UTC).date()
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise InvalidInput(
            "`from` must not be after `to`",
            errors=[{"loc": ["query", "from"], "msg": "after `to`", "type": "range_reversed"}],
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"A report covers at most {MAX_RANGE_DAYS} days",
            errors=[{"loc": ["query", "from"], "msg": "range too long", "type": "range_too_long"}],
        )
    return DateRange(start=start, end=end)


def _bounds(period: DateRange) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time.min, UTC)
    return start, datetime.combine(period.end + timedelta(days=1), time.min, UTC)


async def _reported_course(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID
) -> courses.VisibleCourse:
    course = await courses.get_visible(db, principal, course_id)
    if not (courses.can_manage(principal, course) or principal.can("courses", "read")):
        raise Forbidden("A course's reports are for its teacher and administrators")
    return course


def _ensure_platform(principal: Principal) -> None:
    if not principal.can("users", "read"):
        raise Forbidden("Platform reports require users:read")


async def enrolments(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, period: DateRange, bucket: str
) -> SeriesReport:
    await _reported_course(db, principal, course_id)
    rows = await enrollments.enrolments_over_time(db, course_id, *_bounds(period), bucket)
    return _series(period, bucket, rows)


async def active_learners(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, period: DateRange, bucket: str
) -> SeriesReport:
    """Learners who studied in the course in each day or week (a learner counts once a
    period, whatever they did)."""
    await _reported_course(db, principal, course_id)
    rows = await enrollments.active_learners(db, course_id, period.start, period.end, bucket)
    return _series(period, bucket, rows, total=False)


async def active_users(
    db: AsyncSession, principal: Principal, period: DateRange, bucket: str
) -> SeriesReport:
    """Daily (bucket=day) or weekly (bucket=week) active users: learners who studied."""
    _ensure_platform(principal)
    rows = await enrollments.active_learners(db, None, period.start, period.end, bucket)
    return _series(period, bucket, rows, total=False)


async def exercises(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, period: DateRange, limit: int
) -> ExerciseReport:
    """Without the prompts, which are lesson content (views/exercise_report.py adds them)."""
    await _reported_course(db, principal, course_id)
    scores = await enrollments.exercise_scores(db, course_id, *_bounds(period), limit)
    published = {lesson.id: lesson for lesson in await lessons.published_of_course(db, course_id)}
    rows = []
    for score in scores:
        lesson = published.get(score.lesson_id)
        rows.append(
            ExerciseStat(
                lesson_id=score.lesson_id,
                lesson_order=lesson.order if lesson else None,
                lesson_title=lesson.title if lesson else None,
                exercise_id=score.exercise_id,
                type=score.type,
                prompt=None,
                attempts=score.attempts,
                learners=score.learners,
                average_percent=score.average_percent,
                correct_rate=score.correct_rate,
            )
        )
    return ExerciseReport(range=period, exercises=rows)


async def signups(
    db: AsyncSession, principal: Principal, period: DateRange, bucket: str
) -> SeriesReport:
    _ensure_platform(principal)
    return _series(period, bucket, await users.signups_over_time(db, *_bounds(period), bucket))


def _series(
    period: DateRange, bucket: str, rows: list[tuple[datetime, int]], *, total: bool = True
) -> SeriesReport:
    """`total`: the sum of the points; None where one person counts in several periods."""
    return SeriesReport(
        range=period,
        bucket=bucket,
        points=[CountPoint(period_start=at, count=n) for at, n in rows],
        total=sum(n for _, n in rows) if total else None,
    )


async def funnel(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, period: DateRange
) -> FunnelReport:
    await _reported_course(db, principal, course_id)
    start, end = _bounds(period)
    published = await lessons.published_of_course(db, course_id)
    counts = await enrollments.completions_per_lesson(db, course_id, start, end)
    enrolled = await enrollments.count_for_course(db, course_id)
    return FunnelReport(
        range=period,
        enrolled=enrolled,
        lessons=[
            FunnelStep(
                lesson_id=lesson.id,
                order=lesson.order,
                title=lesson.title,
                started=counts.get(lesson.id, (0, 0))[0],
                completed=(done := counts.get(lesson.id, (0, 0))[1]),
                completion_rate=round(100 * done / enrolled, 2) if enrolled else 0.0,
            )
            for lesson in published
        ],
    )


async def time_spent(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, period: DateRange
) -> TimeSpentReport:
    await _reported_course(db, principal, course_id)
    start, _ = _bounds(period)
    edges = [m * 60 for m in TIME_EDGES_MINUTES]
    counts = await enrollments.time_spent_histogram(db, course_id, start, edges)
    lows = (0, *TIME_EDGES_MINUTES)
    highs: tuple[int | None, ...] = (*TIME_EDGES_MINUTES, None)
    return TimeSpentReport(
        range=period,
        buckets=[
            TimeBucket(from_minutes=low, to_minutes=high, learners=n)
            for low, high, n in zip(lows, highs, counts, strict=True)
        ],
    )


async def top_courses(
    db: AsyncSession, principal: Principal, period: DateRange, limit: int
) -> TopCoursesReport:
    _ensure_platform(principal)
    rows = await enrollments.top_courses(db, *_bounds(period), limit)
    titles = {c.id: c.title for c in await courses.summaries(db, [r[0] for r in rows])}
    return TopCoursesReport(
        range=period,
        courses=[
            TopCourse(course_id=c, title=titles.get(c), enrolments=n, completed=done)
            for c, n, done in rows
        ],
    )


async def revenue(
    db: AsyncSession,
    principal: Principal,
    course_id: uuid.UUID | None,
    period: DateRange,
    bucket: str,
) -> RevenueReport:
    """Paid orders and refunds (payments decides who may see them: the course's teacher, or
    orders:read); amounts are per currency, never added across currencies."""
    rows = await payments.revenue(db, principal, bucket, *_bounds(period), course_id)
    return RevenueReport(
        range=period,
        bucket=bucket,
        points=[
            RevenuePoint(
                period_start=r.bucket,
                currency=r.currency,
                gross=f"{r.gross:.2f}",
                refunded=f"{r.refunded:.2f}",
                net=f"{r.gross - r.refunded:.2f}",
                orders=r.orders,
            )
            for r in rows
        ],
    )
