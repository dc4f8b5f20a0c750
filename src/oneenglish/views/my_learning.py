"""My learning: every course I am enrolled in with its progress (one PostgreSQL aggregate:
progress, lessons, time, last activity) and my quiz attempts and average (one MongoDB
aggregation), read concurrently; MongoDB down: the quiz fields are null and `degraded`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.progress import service as progress
from oneenglish.progress.schemas import CourseLearning, MyLearningOut
from oneenglish.views.degraded import mongo_or_degraded


async def my_learning(db: AsyncSession, mongo: Database, principal: Principal) -> MyLearningOut:
    async def postgres_part() -> tuple[list[Any], dict[uuid.UUID, str]]:
        rows = await enrollments.progress_of(db, principal.id)
        titled = await courses.summaries(db, [r.course_id for r in rows])
        return rows, {c.id: c.title for c in titled}

    (rows, titles), ([quiz], degraded) = await asyncio.gather(
        postgres_part(), mongo_or_degraded(progress.quiz_totals(mongo, principal.id))
    )
    learning = []
    for row in rows:
        attempts, percent_sum = (quiz or {}).get(str(row.course_id), (0, 0.0))
        learning.append(
            CourseLearning(
                **row.model_dump(),
                course_title=titles.get(row.course_id),
                quiz_attempts=None if degraded else attempts,
                quiz_average_percent=None
                if degraded or not attempts
                else round(percent_sum / attempts, 2),
            )
        )
    return MyLearningOut(courses=learning, degraded=degraded)
