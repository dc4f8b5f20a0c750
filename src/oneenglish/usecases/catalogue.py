"""Catalogue changes that move learners' progress: publishing, unpublishing or removing a
lesson changes what 100% means for every enrollment of its course, in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.context import Actor
from oneenglish.core.principal import Principal
from oneenglish.enrollments import service as enrollments
from oneenglish.lessons import service as lessons
from oneenglish.lessons.schemas import LessonOut


async def refresh_if_published(db: AsyncSession, lesson: LessonOut) -> None:
    if lesson.is_published:
        await enrollments.refresh_course_progress(db, lesson.course_id)


async def publish_lesson(
    db: AsyncSession, principal: Principal, actor: Actor, lesson_id: uuid.UUID, published: bool
) -> LessonOut:
    lesson, changed = await lessons.set_published(db, principal, actor, lesson_id, published)
    if changed:
        await enrollments.refresh_course_progress(db, lesson.course_id)
    await db.commit()
    return lesson
