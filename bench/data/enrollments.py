"""The enrollments data set: every loaded user in five courses, before any progress.

User number i (in email order) is enrolled in the courses numbered (7i + 13k) mod courses, for
k = 0..4 (in slug order): deterministic, distinct for each user, and spread evenly over the
catalogue. Rows are as `POST /api/courses/{id}/enrollments` leaves them (progress 0, no
completion, no activity yet, no `lesson_activity` rows), created after both the user and the
course. Not loaded: the audit entry and the `enrollment.created` event each enrolment through
the API also records; no scenario reads them.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.data import DataSet
from bench.data.bulk import delete_all_but
from bench.data.courses import SLUG_PATTERN
from bench.data.scales import Scale
from bench.data.users import EMAIL_PATTERN
from bench.databases import Databases
from oneenglish.progress.models import COLLECTION as PROGRESS

COURSE_STRIDE, ENROLLMENT_STRIDE = 7, 13


def course_numbers(user_number: int, scale: Scale) -> list[int]:
    """The courses (numbered in slug order) user number `user_number` is enrolled in."""
    per_user = scale.enrollments // scale.users
    return [
        (COURSE_STRIDE * user_number + ENROLLMENT_STRIDE * k) % scale.courses
        for k in range(per_user)
    ]


async def present(db: Databases) -> int:
    # In the loaded catalogue only: the reports data set enrols loaded users in a course of
    # its own.
    count: int = await db.pool.fetchval(
        "SELECT count(*) FROM enrollments e JOIN users u ON u.id = e.user_id "
        "JOIN courses c ON c.id = e.course_id WHERE u.email LIKE $1 AND c.slug LIKE $2",
        EMAIL_PATTERN,
        SLUG_PATTERN,
    )
    return count


async def wipe(db: Databases) -> None:
    # Lesson activity goes by cascade; progress documents exist only while (d) runs, and its
    # clean-up removes them, but an interrupted run may have left some.
    await db.pool.execute(
        "DELETE FROM enrollments WHERE user_id IN (SELECT id FROM users WHERE email LIKE $1)",
        EMAIL_PATTERN,
    )
    await delete_all_but(db, PROGRESS, [])


async def load(db: Databases, scale: Scale) -> None:
    per_user = scale.enrollments // scale.users
    if scale.enrollments % scale.users or ENROLLMENT_STRIDE * (per_user - 1) >= scale.courses:
        raise ValueError(f"scale {scale.name}: each user must get the same few distinct courses")
    users = await db.pool.fetch(
        "SELECT id, created_at FROM users WHERE email LIKE $1 ORDER BY email", EMAIL_PATTERN
    )
    courses = await db.pool.fetch(
        "SELECT id, created_at FROM courses WHERE slug LIKE $1 ORDER BY slug", SLUG_PATTERN
    )
    if len(users) != scale.users or len(courses) != scale.courses:
        raise RuntimeError("load the users and courses data sets first")
    rng = random.Random(13)
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    for number, user in enumerate(users):
        for course_number in course_numbers(number, scale):
            course = courses[course_number]
            joined = max(user["created_at"], course["created_at"])
            created = joined + (now - joined) * rng.random()
            rows.append((uuid.uuid4(), user["id"], course["id"], created, created))
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table(
            "enrollments",
            records=rows,
            columns=["id", "user_id", "course_id", "created_at", "updated_at"],
        )


DATASET = DataSet(
    name="enrollments",
    expected=lambda scale: scale.enrollments,
    present=present,
    load=load,
    wipe=wipe,
    needs=("users", "courses"),
)
