"""(c) reading a lesson with its content, (d) recording progress, (e) a page of the catalogue.

All three are requests of logged-in learners (RunContext.learners: loaded users 0..31, each
enrolled in five courses by the enrollments data set), a random learner per request. The floors
issue the statements the API's code issues, in the same order and with the same concurrency
(see each one), without SQLAlchemy, validation, JSON or HTTP. Statements the application
writes as SQL text are taken from it (`asyncpg_sql`); those SQLAlchemy builds are written out
here as it renders them.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.api_server import Route
from bench.data.courses import STEP_IDS, STEPS_IN_EVERY_LESSON
from bench.data.reports import SLUG as REPORTS_SLUG
from bench.databases import Databases
from bench.floor import FloorOp
from bench.scenarios.base import (
    COMPLETE_SAGA_SQL,
    DONE_STEP,
    INSERT_SAGAS_SQL,
    Caller,
    RunContext,
    Scenario,
    asyncpg_sql,
    authenticate,
    learner_plan,
    wait_for_relay,
)
from bench.wrk import WrkPlan
from oneenglish.audit.models import COLLECTION as AUDIT_LOGS
from oneenglish.audit.schemas import DELIVER_AUDIT as DELIVER_AUDIT_KIND
from oneenglish.content.models import COLLECTION as CONTENTS
from oneenglish.content.service import item_ids
from oneenglish.courses import repository as courses_repository
from oneenglish.courses.models import LEVELS
from oneenglish.courses.repository import page_sql
from oneenglish.courses.schemas import CourseFilters
from oneenglish.enrollments.repository import _CREDIT_SQL, _RECOMPUTE_SQL, ENROLLED_SQL
from oneenglish.events.service import DISPATCH_EVENT as DISPATCH_EVENT_KIND
from oneenglish.lessons import repository as lessons_repository
from oneenglish.progress import completion
from oneenglish.progress import service as progress
from oneenglish.progress.models import COLLECTION as PROGRESS
from oneenglish.progress.models import progress_key
from oneenglish.progress.schemas import ProgressDetail
from oneenglish.workflows.record_progress import KIND as RECORD_PROGRESS_KIND

DELIVER_AUDIT = DELIVER_AUDIT_KIND.name
DISPATCH_EVENT = DISPATCH_EVENT_KIND.name
RECORD_PROGRESS = RECORD_PROGRESS_KIND.name

# The application's own statements: lessons/repository.get_row, courses/repository.get_row and
# enrollments/repository.exists, all three on the driver in the API too.
LESSON_SQL = lessons_repository.ROW_SQL
COURSE_SQL = courses_repository.ROW_SQL
ENROLLMENT_SQL = ENROLLED_SQL

# The lessons the learners can open: every published lesson of the courses they are enrolled in.
TARGETS_SQL = """
SELECT e.user_id, l.id AS lesson_id
FROM enrollments e
JOIN lessons l ON l.course_id = e.course_id AND l.is_published
WHERE e.user_id = ANY($1::uuid[])
ORDER BY e.user_id, e.course_id, l."order"
"""


@dataclass(frozen=True)
class Target:
    number: int  # the learner's number (RunContext.learners)
    learner: Caller
    lesson_id: uuid.UUID


async def learner_lessons(ctx: RunContext, db: Databases) -> list[Target]:
    by_id = {c.user_id: (n, c) for n, c in enumerate(ctx.learners)}
    rows = await db.pool.fetch(TARGETS_SQL, list(by_id))
    if not rows:
        raise RuntimeError("the learners are enrolled in nothing: load the enrollments data set")
    return [Target(*by_id[r["user_id"]], r["lesson_id"]) for r in rows]


# -- (c) GET /api/lessons/{id} ---------------------------------------------------------------


async def lesson_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    targets = await learner_lessons(ctx, db)
    return learner_plan(
        ctx, "lesson", "GET", ((t.number, f"/api/lessons/{t.lesson_id}", "") for t in targets)
    )


async def lesson_floor(ctx: RunContext, db: Databases) -> FloorOp:
    """As `views/lesson_view.py::view_lesson` for an enrolled learner: the authentication
    statement, then at once the lesson, its course and the learner's enrollment (one after the
    other, on the request's connection) and `find_one` by `_id` on `lesson_contents` and
    `lesson_progress` (together)."""
    targets = await learner_lessons(ctx, db)
    contents, details = db.mongo[CONTENTS], db.mongo[PROGRESS]

    async def view_lesson(rng: random.Random) -> None:
        target = targets[rng.randrange(len(targets))]
        learner, key = target.learner, str(target.lesson_id)
        async with db.pool.acquire() as conn:
            await authenticate(conn, learner)

            async def lesson_access() -> bool:
                lesson = await conn.fetchrow(LESSON_SQL, target.lesson_id)
                if lesson is None:
                    raise LookupError(f"no lesson {key}")
                course = await conn.fetchrow(COURSE_SQL, lesson["course_id"])
                if course is None or not (lesson["is_published"] and course["is_published"]):
                    raise LookupError(f"lesson {key} is not visible")
                enrollment = await conn.fetchrow(ENROLLMENT_SQL, learner.user_id, course["id"])
                return enrollment is not None

            enrolled, content, _ = await asyncio.gather(
                lesson_access(),
                contents.find_one({"_id": key}),
                details.find_one({"_id": progress_key(str(learner.user_id), key)}),
            )
        if not enrolled or content is None:
            raise LookupError(f"lesson {key}: content locked or missing")

    return view_lesson


LESSON = Scenario(
    key="c",
    title="a lesson with its content",
    route=Route("GET", "/api/lessons/{id}"),
    datasets=("users", "courses", "enrollments"),
    wrk=lesson_plan,
    floor=lesson_floor,
    learners=True,
)

# -- (d) PUT /api/lessons/{id}/progress ------------------------------------------------------

TIME_SPENT_SECONDS = 30
# enrollments/service.py::record_activity, through enrollments/repository.py and lessons'.
LOCK_ENROLLMENT_SQL = "SELECT * FROM enrollments WHERE user_id = $1 AND course_id = $2 FOR UPDATE"
# enrollments/repository.py::add_activity (built by SQLAlchemy there, written out here): time,
# steps as a set union and the best quiz score, with what the completion rule is checked on;
# today becomes one of the learner's study days in the course, in the same statement.
ADD_ACTIVITY_SQL = """
WITH study_day AS (
    INSERT INTO study_days (course_id, day, user_id) VALUES ($5, $6, $7) ON CONFLICT DO NOTHING
)
INSERT INTO lesson_activity
    (enrollment_id, lesson_id, time_spent_seconds, completed_steps, best_quiz_percent,
     last_activity_at)
VALUES ($1, $2, $3, $4, NULL, now())
ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET
    time_spent_seconds = lesson_activity.time_spent_seconds + excluded.time_spent_seconds,
    completed_steps = ARRAY(SELECT DISTINCT s FROM unnest(lesson_activity.completed_steps
        || excluded.completed_steps) AS s ORDER BY s),
    best_quiz_percent = greatest(lesson_activity.best_quiz_percent,
        excluded.best_quiz_percent),
    last_activity_at = now()
RETURNING time_spent_seconds, completed_at, completed_steps, best_quiz_percent
"""
# The study clock (enrollments/repository.py::credit_study_time, the application's statement).
CREDIT_PARAMETERS = (
    "user_id",
    "first_until",
    "first_credit",
    "ws_floor",
    "ceiling",
    "claimed",
)
PUBLISHED_IDS_SQL = "SELECT id FROM lessons WHERE course_id = $1 AND is_published IS true"
RECOMPUTE_PARAMETERS = ("course_id", "published", "enrollment_id", "touch", "now")


def progress_body(step: str) -> str:
    return json.dumps({"completed_steps": [step], "time_spent_seconds": TIME_SPENT_SECONDS})


async def progress_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    targets = await learner_lessons(ctx, db)
    rng = random.Random(5)
    steps = STEP_IDS[:STEPS_IN_EVERY_LESSON]
    return learner_plan(
        ctx,
        "progress",
        "PUT",
        (
            (t.number, f"/api/lessons/{t.lesson_id}/progress", progress_body(rng.choice(steps)))
            for t in targets
        ),
    )


async def progress_floor(ctx: RunContext, db: Databases) -> FloorOp:
    """As `workflows/record_progress.py::record_progress` with a step and time, no notes, not
    completed. One transaction: the authentication statement; the lesson and its course; the
    enrollment and (at once) the lesson's content, whose step ids the request is checked
    against; `record_activity`: the enrollment locked, the lesson's activity read and added to,
    the published lessons, the progress recomputed (the application's statement); the saga's
    intent and the audit entry's outbox row. Then the saga's step (the application's own
    `progress.apply_progress`: one upsert on `lesson_progress`), and its completion in a
    transaction of its own, `synchronous_commit` off. The audit entry is delivered by the
    API's relay, in both measurements."""
    targets = await learner_lessons(ctx, db)
    recompute = asyncpg_sql(_RECOMPUTE_SQL, RECOMPUTE_PARAMETERS)
    credit = asyncpg_sql(_CREDIT_SQL, CREDIT_PARAMETERS)
    slack = db.settings.study_time_slack_seconds
    lease = db.settings.saga_recovery_window_seconds
    contents = db.mongo[CONTENTS]
    steps = STEP_IDS[:STEPS_IN_EVERY_LESSON]

    async def record_progress(rng: random.Random) -> None:
        target = targets[rng.randrange(len(targets))]
        learner, lesson_id, step = target.learner, target.lesson_id, rng.choice(steps)
        saga_id, audit_id = uuid.uuid4(), uuid.uuid4()
        async with db.pool.acquire() as conn, conn.transaction():
            await authenticate(conn, learner)
            lesson = await conn.fetchrow(LESSON_SQL, lesson_id)
            if lesson is None:
                raise LookupError(f"no lesson {lesson_id}")
            course = await conn.fetchrow(COURSE_SQL, lesson["course_id"])
            if course is None:
                raise LookupError(f"no course for lesson {lesson_id}")
            enrollment, content = await asyncio.gather(
                conn.fetchrow(ENROLLMENT_SQL, learner.user_id, course["id"]),
                contents.find_one({"_id": str(lesson_id)}),
            )
            if enrollment is None or content is None or step not in item_ids(content):
                raise LookupError(f"lesson {lesson_id}: not enrolled, or no step {step}")
            locked = await conn.fetchrow(LOCK_ENROLLMENT_SQL, learner.user_id, course["id"])
            assert locked is not None
            now = datetime.now(UTC)
            window_start = now - timedelta(seconds=TIME_SPENT_SECONDS)
            first_start = max(locked["created_at"], window_start)
            first_credit = max(
                0, min(TIME_SPENT_SECONDS, int((now - first_start).total_seconds()) + slack)
            )
            credited = await conn.fetchval(
                credit,
                learner.user_id,
                first_start + timedelta(seconds=first_credit),
                first_credit,
                window_start,
                now + timedelta(seconds=slack),
                TIME_SPENT_SECONDS,
            )
            totals = await conn.fetchrow(
                ADD_ACTIVITY_SQL,
                locked["id"],
                lesson_id,
                credited,
                [step],
                course["id"],
                now.date(),
                learner.user_id,
            )
            assert totals is not None
            # The completion rule is checked only when an update can meet it; this one names a
            # step, so the lesson's rule (from its content) is evaluated, as the API does.
            rule = completion.rule_for("requirements", 70, content)
            completion.missing(rule, totals["completed_steps"], totals["best_quiz_percent"])
            published = [r["id"] for r in await conn.fetch(PUBLISHED_IDS_SQL, course["id"])]
            row = await conn.fetchrow(recompute, course["id"], published, locked["id"], True, None)
            assert row is not None
            payload = {
                "user_id": str(learner.user_id),
                "lesson_id": str(lesson_id),
                "course_id": str(course["id"]),
                "enrollment_id": str(locked["id"]),
                "steps": [step],
                "time_spent_total": totals["time_spent_seconds"],
                "completed_at": None,
                "notes": None,
                "at": datetime.now(UTC).isoformat(),
            }
            entry = {
                "actorId": str(learner.user_id),
                "action": "progress.recorded",
                "entity": "lesson_progress",
                "entityId": progress_key(str(learner.user_id), str(lesson_id)),
                "changes": {
                    "before": None,
                    "after": {
                        "completed_steps": [step],
                        "time_spent_seconds": TIME_SPENT_SECONDS,
                        "time_credited_seconds": credited,
                        "completed": False,
                        "notes_updated": False,
                        "course_progress": float(row["progress"]),
                    },
                },
                "ipAddress": "127.0.0.1",
                "requestId": uuid.uuid4().hex,
                "timestamp": datetime.now(UTC).isoformat(),
            }
            await conn.execute(
                INSERT_SAGAS_SQL,
                saga_id,
                RECORD_PROGRESS,
                locked["id"],
                json.dumps(payload),
                lease,
                audit_id,
                DELIVER_AUDIT,
                json.dumps(entry),
            )
        await progress.apply_progress(db.mongo, ProgressDetail.model_validate(payload))
        async with db.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO off")
            await conn.execute(COMPLETE_SAGA_SQL, saga_id, json.dumps({"detail": DONE_STEP}))

    return record_progress


async def undo_progress(db: Databases) -> None:
    """Put the learners' enrollments back as the data set has them: no lesson activity, no
    progress documents, progress 0 and no activity time (`updated_at` included, past the
    trigger that would set it to now), and no sagas or audit entries of recorded progress."""
    await wait_for_relay(db, (RECORD_PROGRESS, DELIVER_AUDIT, DISPATCH_EVENT))
    # Every progress document and entry comes from this scenario: the data set has none.
    # Each delete scans its collection once; these hold a few thousand documents at most.
    await db.mongo[AUDIT_LOGS].delete_many(
        {"entity": "lesson_progress", "action": "progress.recorded"}
    )
    for digit in "0123456789abcdef":  # at most 65 535 documents per delete (bulk.py)
        await db.mongo[PROGRESS].delete_many({"_id": {"$gte": digit, "$lt": chr(ord(digit) + 1)}})
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM sagas WHERE kind = $1 "
            "OR (kind = $2 AND payload->>'action' = 'progress.recorded')",
            RECORD_PROGRESS,
            DELIVER_AUDIT,
        )
        # The reports data set's history stays (its course is no learner's of (c)–(f)).
        await conn.execute(
            "DELETE FROM lesson_activity WHERE enrollment_id IN (SELECT id FROM enrollments "
            "WHERE course_id IS DISTINCT FROM (SELECT id FROM courses WHERE slug = $1))",
            REPORTS_SLUG,
        )
        await conn.execute(
            "DELETE FROM study_days "
            "WHERE course_id IS DISTINCT FROM (SELECT id FROM courses WHERE slug = $1)",
            REPORTS_SLUG,
        )
        await conn.execute("DELETE FROM study_clocks")
        await conn.execute("ALTER TABLE enrollments DISABLE TRIGGER enrollments_set_updated_at")
        await conn.execute(
            "UPDATE enrollments SET progress = 0, completed_at = NULL, "
            "last_activity_at = NULL, updated_at = created_at "
            "WHERE (last_activity_at IS NOT NULL OR progress <> 0 OR completed_at IS NOT NULL) "
            "AND course_id IS DISTINCT FROM (SELECT id FROM courses WHERE slug = $1)",
            REPORTS_SLUG,
        )
        await conn.execute("ALTER TABLE enrollments ENABLE TRIGGER enrollments_set_updated_at")


LESSON_PROGRESS = Scenario(
    key="d",
    title="save a learner's progress in a lesson",
    route=Route("PUT", "/api/lessons/{id}/progress"),
    datasets=("users", "courses", "enrollments"),
    wrk=progress_plan,
    floor=progress_floor,
    cleanup=undo_progress,
    learners=True,
)

# -- (e) GET /api/courses --------------------------------------------------------------------

PAGE_SIZE = 20
MAX_PAGE = 3
# courses/repository.py::list_page for a learner (not courses:read): the visibility filter and
# the level, newest first; the application's own statement (`page_sql`), the page carrying the
# total.


def course_pages(ctx: RunContext) -> list[tuple[int, str, int]]:
    """(learner number, level, page): pages 1..3, or fewer if a level has fewer courses."""
    per_level = -(-ctx.scale.courses // len(LEVELS))
    pages = min(MAX_PAGE, -(-per_level // PAGE_SIZE))
    return [
        (number, level, page)
        for number in range(len(ctx.learners))
        for level in LEVELS
        for page in range(1, pages + 1)
    ]


async def course_list_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    return learner_plan(
        ctx,
        "courses",
        "GET",
        (
            (n, f"/api/courses?level={level}&page={page}&page_size={PAGE_SIZE}", "")
            for n, level, page in course_pages(ctx)
        ),
    )


async def course_list_floor(ctx: RunContext, db: Databases) -> FloorOp:
    """As `courses/service.py::list_courses` for a learner: the authentication statement, then
    the page with its total."""
    pages = course_pages(ctx)

    async def list_courses(rng: random.Random) -> None:
        number, level, page = pages[rng.randrange(len(pages))]
        learner = ctx.learners[number]
        sql, _, args = page_sql(
            CourseFilters(level=level),
            visible_to=learner.user_id,
            see_all=False,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        async with db.pool.acquire() as conn:
            await authenticate(conn, learner)
            rows = await conn.fetch(sql, *args)
        if not rows or len(rows) > PAGE_SIZE:
            raise LookupError(f"no courses at level {level}")

    return list_courses


COURSE_LIST = Scenario(
    key="e",
    title="course list with a filter, one page",
    route=Route("GET", "/api/courses"),
    datasets=("users", "courses"),
    wrk=course_list_plan,
    floor=course_list_floor,
    learners=True,
)
