"""A lesson as its reader sees it: the row and course (PostgreSQL) and the content and the
reader's own detail (MongoDB), read concurrently. Content is for enrolled learners and the
course's managers; answer keys only for managers; anyone else gets `locked: true` (as does a
learner of a sequential course whose previous lesson is not completed yet). MongoDB
down: 200 without content, `degraded: ["mongodb"]`.

Also the access check the learning workflows start from (enrolled_access): the lesson, the
enrollment and, when asked, the content, read together."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

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
        if access.manages or principal.can("courses", "read"):
            return access, True
        enrollment = await enrollments.enrollment_of(db, principal.id, access.course.id)
        if enrollment is None:
            return access, False
        if access.course.sequential:
            try:
                await _ensure_open(db, enrollment, access.lesson)
            except Forbidden:
                return access, False
        return access, True

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
    needs_content: bool | Callable[[lessons.VisibleLesson], bool] = True,
) -> tuple[lessons.LessonAccess, MongoDocument | None]:
    """The lesson, if the caller is enrolled in its course and it is open to them (in a
    sequential course, once the previous published lesson is completed: 403 naming it), with
    its content when asked (`needs_content` may decide from the lesson)."""
    access = await lessons.get_accessible(db, principal, lesson_id)
    wanted = needs_content(access.lesson) if callable(needs_content) else needs_content
    enrollment, document = await asyncio.gather(
        enrollments.enrollment_of(db, principal.id, access.course.id),
        content.find_content(mongo, lesson_id) if wanted else _no_content(),
    )
    if enrollment is None:
        raise Forbidden("Enrol in the course first")
    if access.course.sequential and not access.manages:
        await _ensure_open(db, enrollment, access.lesson)
    return access, document


async def _ensure_open(
    db: AsyncSession, enrollment: uuid.UUID, lesson: lessons.VisibleLesson
) -> None:
    previous = await lessons.previous_published(db, lesson)
    if previous is not None and not await enrollments.lesson_completed(db, enrollment, previous.id):
        raise Forbidden(
            f'This course is sequential: complete "{previous.title}" first',
            opens_after={"lesson_id": str(previous.id), "title": previous.title},
        )
