"""A lesson as its reader sees it: the row and course (PostgreSQL) and the content and the
reader's own detail (MongoDB), read concurrently. Content is for enrolled learners and the
course's managers; answer keys only for managers; anyone else gets `locked: true`. MongoDB
down: 200 without content, `degraded: ["mongodb"]`.

Also the access check the learning workflows start from (enrolled_access): the lesson, the
enrollment and, when asked, the content, read together."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.content import service as content
from oneenglish.content.schemas import ContentOut, ManagedContentOut
from oneenglish.core.errors import Forbidden
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.enrollments import service as enrollments
from oneenglish.enrollments.schemas import CourseSummary
from oneenglish.lessons import service as lessons
from oneenglish.lessons.schemas import LessonOut
from oneenglish.progress import service as progress
from oneenglish.progress.schemas import LessonProgressOut
from oneenglish.views.degraded import mongo_or_degraded


class LessonView(LessonOut):
    course: CourseSummary
    content: ManagedContentOut | ContentOut | None
    locked: bool
    my_progress: LessonProgressOut | None
    degraded: list[str]


async def view_lesson(
    db: AsyncSession, mongo: Database, principal: Principal, lesson_id: uuid.UUID
) -> LessonView:
    async def access_and_enrollment() -> tuple[lessons.LessonAccess, bool]:
        access = await lessons.get_accessible(db, principal, lesson_id)
        allowed = access.manages or principal.can("courses", "read")
        if not allowed:
            allowed = await enrollments.is_enrolled(db, principal.id, access.course.id)
        return access, allowed

    (access, allowed), ((document, detail), degraded) = await asyncio.gather(
        access_and_enrollment(),
        mongo_or_degraded(
            content.find_content(mongo, lesson_id),
            progress.lesson_detail(mongo, principal.id, lesson_id),
        ),
    )
    course = access.course
    shown = None
    if allowed and document is not None:
        shown = content.view(document, with_answers=access.manages)
    return LessonView(
        **LessonOut.model_validate(access.lesson).model_dump(),
        course=CourseSummary(
            id=course.id, title=course.title, slug=course.slug, level=course.level
        ),
        content=shown,
        locked=not allowed,
        my_progress=detail,
        degraded=degraded,
    )


async def _no_content() -> None:
    return None


async def enrolled_access(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    lesson_id: uuid.UUID,
    *,
    needs_content: bool = True,
) -> tuple[lessons.LessonAccess, MongoDocument | None]:
    access = await lessons.get_accessible(db, principal, lesson_id)
    enrolled, document = await asyncio.gather(
        enrollments.is_enrolled(db, principal.id, access.course.id),
        content.find_content(mongo, lesson_id) if needs_content else _no_content(),
    )
    if not enrolled:
        raise Forbidden("Enrol in the course first")
    return access, document
