"""(h) a teacher's reports on a course with 5,000 learners (the reports data set)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from bench.api_server import Route
from bench.data import reports as data
from bench.databases import Databases
from bench.floor import FloorOp
from bench.scenarios.base import RunContext, Scenario, authenticate, callers_plan
from bench.wrk import WrkPlan
from oneenglish.content.models import COLLECTION as CONTENTS
from oneenglish.enrollments import repository as enrollments
from oneenglish.reports.schemas import DEFAULT_RANGE_DAYS
from oneenglish.reports.service import TIME_EDGES_MINUTES

REPORTS = ("enrolments", "active-learners", "funnel", "time-spent", "exercises")
CONNECTIONS = 4
EXERCISES_LIMIT = 100
# What the service reads besides each report's aggregate (the course it checks access to,
# the published lessons the funnel and the exercises name, the enrolled count of the funnel).
COURSE_SQL = "SELECT * FROM courses WHERE id = $1"
LESSONS_SQL = (
    'SELECT * FROM lessons WHERE course_id = $1 AND is_published IS true ORDER BY "order", id'
)
ENROLLED_SQL = "SELECT count(*) FROM enrollments WHERE course_id = $1"


def on_driver(query: Any) -> tuple[str, list[Any]]:
    """The application's SQLAlchemy statement as the asyncpg dialect renders it, with its
    parameters in order: the floor runs what the API runs."""
    compiled = query.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
    return compiled.string, [compiled.params[name] for name in compiled.positiontup]


async def report_course(db: Databases) -> uuid.UUID:
    found = await data.course_id(db)
    if found is None:
        raise RuntimeError("the reports data set is not loaded")
    return found


async def reports_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    course = await report_course(db)
    return callers_plan(
        ctx,
        "reports",
        "GET",
        [ctx.admin],
        ((0, f"/api/reports/courses/{course}/{name}", "") for name in REPORTS),
    )


def _default_range() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=DEFAULT_RANGE_DAYS - 1), time.min, UTC)
    return start, datetime.combine(today + timedelta(days=1), time.min, UTC)


async def reports_floor(ctx: RunContext, db: Databases) -> FloorOp:
    """As reports/service.py with the default range: the authentication statement, the course,
    then the report's own aggregate (and for the funnel the published lessons and the enrolled
    count; for the exercises the published lessons and the prompts' `find` on MongoDB)."""
    course = await report_course(db)
    start, end = _default_range()
    edges = [m * 60 for m in TIME_EDGES_MINUTES]
    aggregates: dict[str, Callable[[], Any]] = {
        "enrolments": lambda: enrollments.enrolments_query(course, start, end, "week"),
        "active-learners": lambda: enrollments.active_learners_query(
            course, start.date(), (end - timedelta(days=1)).date(), "week"
        ),
        "funnel": lambda: enrollments.completions_query(course, start, end),
        "time-spent": lambda: enrollments.time_spent_query(course, start, edges),
        "exercises": lambda: enrollments.exercise_scores_query(course, start, end, EXERCISES_LIMIT),
    }
    statements = {name: on_driver(build()) for name, build in aggregates.items()}

    async def read_report(rng: random.Random) -> None:
        name = REPORTS[rng.randrange(len(REPORTS))]
        sql, args = statements[name]
        async with db.pool.acquire() as conn:
            await authenticate(conn, ctx.admin)
            if await conn.fetchrow(COURSE_SQL, course) is None:
                raise LookupError("the report course is gone")
            rows = await conn.fetch(sql, *args)
            if name in ("funnel", "exercises"):
                await conn.fetch(LESSONS_SQL, course)
            if name == "funnel":
                await conn.fetchval(ENROLLED_SQL, course)
        if not rows:
            raise LookupError(f"the {name} report is empty")
        if name == "exercises":
            # As content/repository.py::exercises_of: a point read by _id per lesson named.
            lessons = {str(r[0]) for r in rows}
            await asyncio.gather(
                *(db.mongo[CONTENTS].find_one({"_id": i}, {"exercises": 1}) for i in lessons)
            )

    return read_report


REPORTS_SCENARIO = Scenario(
    key="h",
    title="a teacher's reports on a course with 5,000 learners",
    route=Route("GET", "/api/reports/courses/{course_id}/funnel"),
    datasets=("users", "courses", "enrollments", "reports"),
    wrk=reports_plan,
    floor=reports_floor,
    facts=lambda: {
        "connections": CONNECTIONS,
        "why_connections": "a few teachers read reports at once; the target is a p50 under "
        "300 ms, which at saturation would measure the queue",
        "reports": list(REPORTS),
        "learners_in_course": len(data.LEARNERS),
    },
    concurrency=CONNECTIONS,
)
