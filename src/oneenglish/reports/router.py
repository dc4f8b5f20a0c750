"""/api/reports: JSON by default, CSV with `format=csv` (one row per point, bucket or lesson)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel
from starlette.responses import Response

from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.replicas import ReadDbSession
from oneenglish.reports import service
from oneenglish.reports.schemas import (
    Bucket,
    ExerciseReport,
    FunnelReport,
    RevenueReport,
    SeriesReport,
    TimeSpentReport,
    TopCoursesReport,
)
from oneenglish.views.exercise_report import exercise_report

router = ApiRouter(prefix="/api/reports", tags=["reports"])

From = Annotated[
    date | None, Query(alias="from", description="First day (UTC), default 89 days ago")
]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), default today")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a download, one row each")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The report (JSON, or CSV)"}
}


def _csv(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _shaped(report: BaseModel, fmt: str, name: str, header: Sequence[str], rows: Any) -> Any:
    return _csv(name, header, rows) if fmt == "csv" else report


def _series(report: SeriesReport, fmt: str, name: str, column: str) -> Any:
    """A series: one row per period (its first day) with its count."""
    rows = ((p.period_start.date().isoformat(), p.count) for p in report.points)
    return _shaped(report, fmt, name, ("period_start", column), rows)


@router.get("/courses/{course_id}/enrolments", summary="Enrolments over time", responses=CSV)
async def course_enrolments(
    course_id: uuid.UUID,
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "week",
    format: Format = "json",
) -> SeriesReport:
    report = await service.enrolments(
        db, principal, course_id, service.date_range(start, end), bucket
    )
    return _series(report, format, "enrolments", "enrolments")  # type: ignore[no-any-return]


@router.get(
    "/courses/{course_id}/active-learners",
    summary="Learners who studied in the course, per week or day",
    responses=CSV,
)
async def course_active_learners(
    course_id: uuid.UUID,
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "week",
    format: Format = "json",
) -> SeriesReport:
    report = await service.active_learners(
        db, principal, course_id, service.date_range(start, end), bucket
    )
    return _series(report, format, "active-learners", "learners")  # type: ignore[no-any-return]


@router.get(
    "/courses/{course_id}/exercises",
    summary="Average quiz score per exercise, the hardest first",
    responses=CSV,
)
async def course_exercises(
    course_id: uuid.UUID,
    db: ReadDbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    format: Format = "json",
) -> ExerciseReport:
    report = await exercise_report(
        db, mongo, principal, course_id, service.date_range(start, end), limit
    )
    rows = (
        (
            e.lesson_order,
            e.lesson_title,
            e.exercise_id,
            e.type,
            e.prompt,
            e.attempts,
            e.learners,
            e.average_percent,
            e.correct_rate,
        )
        for e in report.exercises
    )
    header = (
        "lesson_order",
        "lesson_title",
        "exercise_id",
        "type",
        "prompt",
        "attempts",
        "learners",
        "average_percent",
        "correct_rate",
    )
    return _shaped(report, format, "exercises", header, rows)  # type: ignore[no-any-return]


@router.get(
    "/courses/{course_id}/funnel",
    summary="Completion funnel: learners who started and completed each lesson",
    responses=CSV,
)
async def course_funnel(
    course_id: uuid.UUID,
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> FunnelReport:
    report = await service.funnel(db, principal, course_id, service.date_range(start, end))
    rows = ((s.order, s.title, s.started, s.completed, s.completion_rate) for s in report.lessons)
    header = ("order", "title", "started", "completed", "completion_rate")
    return _shaped(report, format, "funnel", header, rows)  # type: ignore[no-any-return]


@router.get(
    "/courses/{course_id}/time-spent",
    summary="Learners active in the range by their total time in the course",
    responses=CSV,
)
async def course_time_spent(
    course_id: uuid.UUID,
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> TimeSpentReport:
    report = await service.time_spent(db, principal, course_id, service.date_range(start, end))
    rows = ((b.from_minutes, b.to_minutes, b.learners) for b in report.buckets)
    header = ("from_minutes", "to_minutes", "learners")
    return _shaped(report, format, "time-spent", header, rows)  # type: ignore[no-any-return]


@router.get("/platform/signups", summary="Sign-ups over time (users:read)", responses=CSV)
async def platform_signups(
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "day",
    format: Format = "json",
) -> SeriesReport:
    report = await service.signups(db, principal, service.date_range(start, end), bucket)
    return _series(report, format, "signups", "signups")  # type: ignore[no-any-return]


@router.get(
    "/platform/active-users",
    summary="Daily (bucket=day) or weekly (bucket=week) active users (users:read)",
    responses=CSV,
)
async def platform_active_users(
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "day",
    format: Format = "json",
) -> SeriesReport:
    report = await service.active_users(db, principal, service.date_range(start, end), bucket)
    return _series(report, format, "active-users", "active_users")  # type: ignore[no-any-return]


@router.get(
    "/platform/top-courses",
    summary="The most enrolled courses in the range (users:read)",
    responses=CSV,
)
async def platform_top_courses(
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    format: Format = "json",
) -> TopCoursesReport:
    report = await service.top_courses(db, principal, service.date_range(start, end), limit)
    rows = ((c.course_id, c.title, c.enrolments, c.completed) for c in report.courses)
    header = ("course_id", "title", "enrolments", "completed")
    return _shaped(report, format, "top-courses", header, rows)  # type: ignore[no-any-return]


def _revenue(report: RevenueReport, fmt: str) -> Any:
    rows = (
        (p.period_start.isoformat(), p.currency, p.gross, p.refunded, p.net, p.orders)
        for p in report.points
    )
    header = ("period_start", "currency", "gross", "refunded", "net", "orders")
    return _shaped(report, fmt, "revenue", header, rows)


@router.get(
    "/courses/{course_id}/revenue",
    summary="A course's money in and out (its teacher, or orders:read)",
    responses=CSV,
)
async def course_revenue(
    course_id: uuid.UUID,
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "week",
    format: Format = "json",
) -> RevenueReport:
    report = await service.revenue(db, principal, course_id, service.date_range(start, end), bucket)
    return _revenue(report, format)  # type: ignore[no-any-return]


@router.get(
    "/platform/revenue", summary="Money in and out, every course (orders:read)", responses=CSV
)
async def platform_revenue(
    db: ReadDbSession,
    principal: CurrentUser,
    start: From = None,
    end: To = None,
    bucket: Bucket = "week",
    format: Format = "json",
) -> RevenueReport:
    report = await service.revenue(db, principal, None, service.date_range(start, end), bucket)
    return _revenue(report, format)  # type: ignore[no-any-return]
