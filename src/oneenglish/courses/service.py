"""The course catalogue: who sees and manages what, slugs, publication."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from oneenglish.core.patching import apply_patch
from oneenglish.core.principal import ANONYMOUS, Principal
from oneenglish.core.slugs import first_free, slugify
from oneenglish.courses import repository
from oneenglish.courses.models import Course, CourseRow
from oneenglish.courses.schemas import CourseFilters, CourseIn, CourseOut, CoursePatch
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.users import service as users

SLUG_ATTEMPTS = 5


# The types other domains get from this service, by these names (never the tables): a course
# read on the driver for a reader, and the ORM row its manager changes (locked).
VisibleCourse = CourseRow
ManagedCourse = Course


def can_manage(principal: Principal, course: Course | CourseRow) -> bool:
    """Admins manage every course; teachers the ones they created (while still teachers)."""
    return principal.can("courses", "update") or (
        course.created_by == principal.id and principal.can("courses", "create")
    )


def can_see(principal: Principal, course: Course | CourseRow) -> bool:
    return course.is_published or principal.can("courses", "read") or can_manage(principal, course)


async def get_visible(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> CourseRow:
    """The course, if the caller may see it; a draft is a 404 to learners (it does not exist
    for them). For reading only: what changes a course uses get_managed."""
    course = await repository.get_row(db, course_id)
    if course is None or not can_see(principal, course):
        raise NotFound(f"No course {course_id}")
    return course


async def get_managed(
    db: AsyncSession, principal: Principal, course_id: uuid.UUID, *, for_update: bool = False
) -> Course:
    course = await repository.get(db, course_id, for_update=for_update)
    if course is None or not can_see(principal, course):
        raise NotFound(f"No course {course_id}")
    if not can_manage(principal, course):
        raise Forbidden("Only the course's teacher or an administrator may change it")
    return course


async def read_course(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> CourseOut:
    course = CourseOut.model_validate(await get_visible(db, principal, course_id))
    return course.model_copy(update={"teacher": await users.card(db, course.created_by)})


async def list_courses(
    db: AsyncSession, principal: Principal, filters: CourseFilters, limit: int, offset: int
) -> tuple[list[CourseOut], int]:
    if filters.mine and principal is ANONYMOUS:
        raise Unauthorized("`mine` needs a bearer token")
    rows, total = await repository.list_page(
        db,
        filters,
        visible_to=None if principal is ANONYMOUS else principal.id,
        see_all=principal.can("courses", "read"),
        limit=limit,
        offset=offset,
    )
    courses = [CourseOut.model_validate(dict(row)) for row in rows]
    teachers = await users.cards(db, (c.created_by for c in courses))
    return [
        c.model_copy(update={"teacher": teachers.get(c.created_by)}) if c.created_by else c
        for c in courses
    ], total


async def create_course(
    db: AsyncSession,
    principal: Principal,
    actor: Actor,
    data: CourseIn,
    default_currency: str = "EUR",
) -> CourseOut:
    if not principal.can("courses", "create"):
        raise Forbidden("Requires permission courses:create")
    values = data.model_dump(exclude={"slug"})
    values["currency"] = data.currency or default_currency
    for attempt in range(SLUG_ATTEMPTS):
        slug = data.slug or await _free_slug(db, slugify(data.title))
        try:
            async with db.begin_nested():
                course = await repository.insert(db, **values, slug=slug, created_by=principal.id)
            break
        except IntegrityError as exc:
            if "uq_courses_slug" not in str(exc.orig):
                raise
            if data.slug or attempt == SLUG_ATTEMPTS - 1:
                raise Conflict(f"The slug {slug!r} is taken", field="slug") from exc
    out = CourseOut.model_validate(course)
    audit.record(db, actor, "course.created", "course", course.id, after=out)
    return out


async def update_course(
    db: AsyncSession, principal: Principal, actor: Actor, course_id: uuid.UUID, patch: CoursePatch
) -> CourseOut:
    course = await get_managed(db, principal, course_id, for_update=True)
    before = CourseOut.model_validate(course)
    await apply_patch(db, course, patch, conflict=f"The slug {patch.slug!r} is taken", field="slug")
    after = CourseOut.model_validate(course)
    if after != before:
        audit.record(db, actor, "course.updated", "course", course.id, before=before, after=after)
    return after


async def set_published(
    db: AsyncSession, principal: Principal, actor: Actor, course_id: uuid.UUID, published: bool
) -> CourseOut:
    course = await get_managed(db, principal, course_id, for_update=True)
    if course.is_published != published:
        course.is_published = published
        await db.flush()
        await db.refresh(course)
        action = "course.published" if published else "course.unpublished"
        audit.record(db, actor, action, "course", course.id)
    return CourseOut.model_validate(course)


async def withdraw(db: AsyncSession, course_id: uuid.UUID) -> None:
    """Take a course out of the catalogue (while it is being deleted)."""
    await repository.set_published(db, course_id, False)


async def delete_course_row(db: AsyncSession, course_id: uuid.UUID) -> bool:
    return await repository.delete_row(db, course_id)


async def existing_course_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return await repository.existing_ids(db, ids)


async def find_by_slug(db: AsyncSession, slug: str) -> Course | None:
    return await repository.get_by_slug(db, slug)


async def _free_slug(db: AsyncSession, base: str) -> str:
    return first_free(base, await repository.slugs_like(db, base))


async def summaries(db: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Course]:
    return await repository.many(db, ids)


def taught_by_query(user_id: uuid.UUID) -> Any:
    """The ids of the courses `user_id` teaches, as a subquery for other domains' queries."""
    return repository.created_by_query(user_id)


async def ids_created_by(db: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.ids_created_by(db, user_id)


async def _export_courses_created(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    """The courses the user created (they stay when the user is erased, without an author)."""
    return [
        {"id": str(c.id), "title": c.title, "slug": c.slug, "created_at": c.created_at.isoformat()}
        for c in await repository.created_by(db, user_id)
    ]


register_user_table(UserTable("courses", "courses_created", _export_courses_created))
