"""Lessons within a course: visibility, positions, slugs, publication."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, InvalidInput, NotFound
from oneenglish.core.patching import apply_patch
from oneenglish.core.principal import Principal
from oneenglish.core.slugs import first_free, slugify
from oneenglish.courses import service as courses
from oneenglish.lessons import repository
from oneenglish.lessons.models import Lesson, LessonRow
from oneenglish.lessons.schemas import LessonIn, LessonOut, LessonPatch

# The lesson type other domains get from this service (a row read on the driver).
VisibleLesson = LessonRow


@dataclass(frozen=True)
class LessonAccess:
    """A lesson the caller may see, with its course: rows read on the driver."""

    lesson: LessonRow
    course: courses.VisibleCourse
    manages: bool  # teacher of the course or administrator: sees drafts and answer keys


async def get_accessible(
    db: AsyncSession, principal: Principal, lesson_id: uuid.UUID
) -> LessonAccess:
    """A lesson the caller may see: managers see every lesson of their courses; everyone else
    published lessons of published courses (anything else is a 404: it does not exist for them)."""
    lesson = await repository.get_row(db, lesson_id)
    if lesson is None:
        raise NotFound(f"No lesson {lesson_id}")
    course = await courses.get_visible(db, principal, lesson.course_id)
    manages = courses.can_manage(principal, course)
    if not manages and not (lesson.is_published and course.is_published):
        raise NotFound(f"No lesson {lesson_id}")
    return LessonAccess(lesson, course, manages)


@dataclass(frozen=True)
class ManagedLesson:
    """A lesson its teacher or an admin is changing: ORM objects, the course locked."""

    lesson: Lesson
    course: courses.ManagedCourse


async def get_managed(
    db: AsyncSession, principal: Principal, lesson_id: uuid.UUID
) -> ManagedLesson:
    lesson = await repository.get(db, lesson_id)
    if lesson is None:
        raise NotFound(f"No lesson {lesson_id}")
    # Lock the course: positions within it change under this lock only.
    course = await courses.get_managed(db, principal, lesson.course_id, for_update=True)
    return ManagedLesson(lesson, course)


async def list_lessons(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID
) -> list[LessonOut]:
    course = await courses.get_visible(db, principal, course_id)
    drafts = courses.can_manage(principal, course) or principal.can("courses", "read")
    rows = await repository.of_course(db, course_id, published_only=not drafts)
    return [LessonOut.model_validate(lesson) for lesson in rows]


async def create_lesson(
    db: AsyncSession,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    data: LessonIn,
    *,
    lesson_id: uuid.UUID | None = None,
) -> LessonOut:
    await courses.get_managed(db, principal, course_id, for_update=True)
    count = await repository.count(db, course_id)
    position = count + 1 if data.order is None else data.order
    if position > count + 1:
        raise InvalidInput(
            f"order must be between 1 and {count + 1}",
            errors=[{"loc": ["body", "order"], "msg": f"at most {count + 1}"}],
        )
    if position <= count:
        await repository.defer_order_uniqueness(db)
        await repository.shift_down_from(db, course_id, position)
    slug = data.slug or await _free_slug(db, course_id, slugify(data.title))
    values = {
        "course_id": course_id,
        "title": data.title,
        "slug": slug,
        "order": position,
        "duration_minutes": data.duration_minutes,
        "is_published": data.is_published,
        "completion": data.completion,
        "pass_mark": data.pass_mark,
        "show_answers": data.show_answers,
    }
    if lesson_id is not None:
        values["id"] = lesson_id
    try:
        async with db.begin_nested():
            lesson = await repository.insert(db, **values)
    except IntegrityError as exc:
        if "uq_lessons_course_id_slug" in str(exc.orig):
            raise Conflict(f"The slug {slug!r} is taken in this course", field="slug") from exc
        raise
    out = LessonOut.model_validate(lesson)
    audit.record(db, actor, "lesson.created", "lesson", lesson.id, after=out)
    return out


async def update_lesson(
    db: AsyncSession, principal: Principal, actor: Actor, lesson_id: uuid.UUID, patch: LessonPatch
) -> LessonOut:
    access = await get_managed(db, principal, lesson_id)
    lesson = access.lesson
    before = LessonOut.model_validate(lesson)
    await apply_patch(
        db, lesson, patch, conflict=f"The slug {patch.slug!r} is taken in this course", field="slug"
    )
    after = LessonOut.model_validate(lesson)
    if after != before:
        audit.record(db, actor, "lesson.updated", "lesson", lesson.id, before=before, after=after)
    return after


async def set_published(
    db: AsyncSession, principal: Principal, actor: Actor, lesson_id: uuid.UUID, published: bool
) -> tuple[LessonOut, bool]:
    """Returns the lesson and whether publication changed (progress must then be recomputed)."""
    lesson = (await get_managed(db, principal, lesson_id)).lesson
    changed = lesson.is_published != published
    if changed:
        lesson.is_published = published
        await db.flush()
        await db.refresh(lesson)
        action = "lesson.published" if published else "lesson.unpublished"
        audit.record(db, actor, action, "lesson", lesson.id)
    return LessonOut.model_validate(lesson), changed


async def reorder(
    db: AsyncSession,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    ordered: Sequence[uuid.UUID],
) -> list[LessonOut]:
    """Positions become 1..n in the given order, in one transaction. The list must name every
    lesson of the course exactly once."""
    await courses.get_managed(db, principal, course_id, for_update=True)
    existing = set(await repository.ids_of_course(db, course_id))
    duplicates = sorted({str(i) for i in ordered if list(ordered).count(i) > 1})
    missing = sorted(str(i) for i in existing - set(ordered))
    unknown = sorted(str(i) for i in set(ordered) - existing)
    if duplicates or missing or unknown:
        raise InvalidInput(
            "lesson_ids must list every lesson of the course exactly once",
            duplicates=duplicates,
            missing=missing,
            unknown=unknown,
        )
    await repository.defer_order_uniqueness(db)
    await repository.set_positions(db, course_id, ordered)
    db.expire_all()
    rows = await repository.of_course(db, course_id, published_only=False)
    audit.record(
        db,
        actor,
        "lesson.reordered",
        "course",
        course_id,
        after={"lesson_ids": [str(i) for i in ordered]},
    )
    return [LessonOut.model_validate(lesson) for lesson in rows]


async def withdraw(db: AsyncSession, lesson_id: uuid.UUID) -> None:
    lesson = await repository.get(db, lesson_id, for_update=True)
    if lesson is not None:
        lesson.is_published = False
        await db.flush()


async def delete_lesson_row(db: AsyncSession, lesson_id: uuid.UUID) -> LessonOut | None:
    """Delete the row and close the gap in positions. Idempotent."""
    lesson = await repository.delete_row(db, lesson_id)
    if lesson is None:
        return None
    out = LessonOut.model_validate(lesson)
    await repository.close_gap_at(db, lesson.course_id, lesson.order)
    return out


async def previous_published(db: AsyncSession, lesson: LessonRow) -> LessonRow | None:
    """The published lesson before this one in its course (what opens it, if sequential)."""
    return await repository.previous_published(db, lesson)


async def published_of_course(db: AsyncSession, course_id: uuid.UUID) -> list[LessonOut]:
    rows = await repository.of_course(db, course_id, published_only=True)
    return [LessonOut.model_validate(lesson) for lesson in rows]


async def published_lesson_ids(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.published_ids(db, course_id)


async def lesson_ids_of_course(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.ids_of_course(db, course_id)


async def existing_lesson_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return await repository.existing_ids(db, ids)


async def _free_slug(db: AsyncSession, course_id: uuid.UUID, base: str) -> str:
    return first_free(base, await repository.slugs_like(db, course_id, base))


def published_lessons_query() -> Any:
    return repository.published_ids_query()
