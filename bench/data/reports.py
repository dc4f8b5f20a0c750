"""The reports data set: one course with 5,000 learners and three months of their history,
for scenario (h) (a teacher's reports).

PostgreSQL: a draft course `bench-reports` taught by the bench administrator (a draft, so the
catalogue (e) reads is unchanged) with 20 published lessons; loaded users number 5,000–9,999
(at both scales; the learners of (c)–(f) are 0–31) enrolled in it over the last 120 days, each
reaching a number of lessons drawn from a decaying funnel (mean about six): `lesson_activity`
for each lesson reached (3–40 minutes, completed but for the last, which is completed one time
in two), a `study_days` row for each day they studied (the days of their lessons' activity and
a few more), and `quiz_answers` for one or two attempts at each lesson's four exercises (each
exercise has its own chance of being answered right, so the per-exercise report has an order).
MongoDB: each lesson's content, as the courses data set stores it. Rows are what the API would
have left, without the sagas, events and audit entries it would also have written (no report
reads them).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.data import DataSet
from bench.data.bulk import insert_all
from bench.data.courses import LESSON_TOPICS, _contents, slugified
from bench.data.scales import Scale
from bench.data.users import email
from bench.databases import Databases
from bench.environment import ADMIN_EMAIL
from oneenglish.content.models import COLLECTION as CONTENTS

SLUG = "bench-reports"
LEARNERS = range(5_000, 10_000)
LESSONS = 20
DAYS = 120
# (id, type, points) of the four exercises of every loaded lesson (courses.py::_content).
EXERCISES = (
    ("mc1", "multiple_choice", 2),
    ("fb1", "fill_in_blank", 2),
    ("m1", "matching", 1),
    ("ft1", "free_text", 1),
)


async def course_id(db: Databases) -> uuid.UUID | None:
    found: uuid.UUID | None = await db.pool.fetchval("SELECT id FROM courses WHERE slug = $1", SLUG)
    return found


async def present(db: Databases) -> int:
    count: int = await db.pool.fetchval(
        "SELECT count(*) FROM enrollments e JOIN courses c ON c.id = e.course_id WHERE c.slug = $1",
        SLUG,
    )
    return count


async def wipe(db: Databases) -> None:
    found = await course_id(db)
    if found is None:
        return
    async with db.pool.acquire() as conn, conn.transaction():
        # Activity, study days and quiz answers go with the enrollments and the course.
        await conn.execute("DELETE FROM enrollments WHERE course_id = $1", found)
        await conn.execute("DELETE FROM courses WHERE id = $1", found)
    await db.mongo[CONTENTS].delete_many({"courseId": str(found)})


async def load(db: Databases, scale: Scale) -> None:
    if scale.users < LEARNERS.stop:
        raise ValueError(f"scale {scale.name}: the reports data set needs {LEARNERS.stop} users")
    admin = await db.pool.fetchval("SELECT id FROM users WHERE email = $1", ADMIN_EMAIL)
    users = await db.pool.fetch(
        "SELECT id FROM users WHERE email = ANY($1::text[]) ORDER BY email",
        [email(n) for n in LEARNERS],
    )
    if len(users) != len(LEARNERS):
        raise RuntimeError("load the users data set first")
    rng = random.Random(17)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    course = uuid.uuid4()
    lessons = [
        (
            uuid.uuid4(),
            course,
            f"Lesson {order}: {LESSON_TOPICS[order - 1]}",
            f"lesson-{order:02d}-{slugified(LESSON_TOPICS[order - 1])}",
            order,
            20,
            True,
            start,
            start,
        )
        for order in range(1, LESSONS + 1)
    ]
    right = {exercise: rng.uniform(0.35, 0.95) for exercise, _, _ in EXERCISES}
    enrollments: list[tuple[Any, ...]] = []
    activity: list[tuple[Any, ...]] = []
    days: set[tuple[uuid.UUID, Any, uuid.UUID]] = set()
    answers: list[tuple[Any, ...]] = []
    for user in users:
        user_id = user["id"]
        enrollment = uuid.uuid4()
        joined = start + (now - start) * rng.random()
        reached = min(LESSONS, int(rng.expovariate(1 / 6)))
        done = reached - 1 + (rng.random() < 0.5) if reached else 0
        last = joined
        for order in range(1, reached + 1):
            lesson = lessons[order - 1][0]
            last = last + (now - last) * rng.random() * 0.3
            completed = last if order <= done else None
            activity.append((enrollment, lesson, rng.randint(180, 2_400), completed, last))
            days.add((course, last.date(), user_id))
            for attempt in range(rng.choice((1, 1, 2))):
                attempt_id = uuid.uuid4()
                at = last - timedelta(minutes=5 * (attempt + 1))
                for exercise, kind, points in EXERCISES:
                    correct = rng.random() < right[exercise]
                    scored = points if correct else 0
                    answers.append(
                        (
                            attempt_id,
                            exercise,
                            enrollment,
                            user_id,
                            course,
                            lesson,
                            kind,
                            Decimal(scored),
                            points,
                            correct,
                            attempt == 0,
                            at,
                        )
                    )
        for _ in range(rng.randint(0, 8)):
            days.add((course, (joined + (now - joined) * rng.random()).date(), user_id))
        progress = Decimal(100 * done / LESSONS).quantize(Decimal("0.01"))
        enrollments.append(
            (
                enrollment,
                user_id,
                course,
                progress,
                last if done == LESSONS else None,
                last if reached else None,
                joined,
                joined,
            )
        )
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO courses (id, title, slug, description, level, price, is_published, "
            "created_by, created_at, updated_at) "
            "VALUES ($1, 'Reports B1', $2, 'A course with 5,000 learners', 'B1', 0, false, "
            "$3, $4, $4)",
            course,
            SLUG,
            admin,
            start,
        )
        await conn.copy_records_to_table(
            "lessons",
            records=lessons,
            columns=[
                "id",
                "course_id",
                "title",
                "slug",
                "order",
                "duration_minutes",
                "is_published",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "enrollments",
            records=enrollments,
            columns=[
                "id",
                "user_id",
                "course_id",
                "progress",
                "completed_at",
                "last_activity_at",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "lesson_activity",
            records=activity,
            columns=[
                "enrollment_id",
                "lesson_id",
                "time_spent_seconds",
                "completed_at",
                "last_activity_at",
            ],
        )
        await conn.copy_records_to_table(
            "study_days", records=sorted(days), columns=["course_id", "day", "user_id"]
        )
        await conn.copy_records_to_table(
            "quiz_answers",
            records=answers,
            columns=[
                "attempt_id",
                "exercise_id",
                "enrollment_id",
                "user_id",
                "course_id",
                "lesson_id",
                "type",
                "points",
                "max_points",
                "correct",
                "first_attempt",
                "submitted_at",
            ],
        )
    await insert_all(db, CONTENTS, _contents(lessons, rng))


DATASET = DataSet(
    name="reports",
    expected=lambda scale: len(LEARNERS),
    present=present,
    load=load,
    wipe=wipe,
    # Their loaders wipe what this one adds (the loaded users' enrollments, every lesson
    # content): when they load again, so does this one.
    needs=("users", "courses", "enrollments"),
)
