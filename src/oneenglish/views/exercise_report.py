"""The per-exercise report (PostgreSQL's quiz answers) with each exercise's prompt (the
lesson's content in MongoDB): one aggregate, then one `find` for the lessons it names."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.content import service as content
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database
from oneenglish.reports import service as reports
from oneenglish.reports.schemas import DateRange, ExerciseReport


async def exercise_report(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    course_id: uuid.UUID,
    period: DateRange,
    limit: int,
) -> ExerciseReport:
    report = await reports.exercises(db, principal, course_id, period, limit)
    prompts = await content.exercise_prompts(mongo, [e.lesson_id for e in report.exercises])
    return report.model_copy(
        update={
            "exercises": [
                e.model_copy(update={"prompt": prompts.get((e.lesson_id, e.exercise_id))})
                for e in report.exercises
            ]
        }
    )
