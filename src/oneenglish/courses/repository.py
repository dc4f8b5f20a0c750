"""Queries on the courses table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, delete, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.courses.models import SEARCH_SQL, Course
from oneenglish.courses.schemas import CourseFilters

SEARCH_EXPRESSION: ColumnElement[str] = literal_column(SEARCH_SQL, String)

_ORDER: dict[str, tuple[ColumnElement[Any], ...]] = {
    "newest": (Course.created_at.desc(), Course.id.desc()),
    "oldest": (Course.created_at.asc(), Course.id.asc()),
    "title": (Course.title.asc(), Course.id.asc()),
    "price": (Course.price.asc(), Course.id.asc()),
    "-price": (Course.price.desc(), Course.id.desc()),
}


async def insert(db: AsyncSession, **values: Any) -> Course:
    course = Course(**values)
    db.add(course)
    await db.flush()
    return course


async def get(db: AsyncSession, course_id: uuid.UUID, *, for_update: bool = False) -> Course | None:
    query = select(Course).where(Course.id == course_id)
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


async def slugs_like(db: AsyncSession, base: str) -> set[str]:
    rows = await db.scalars(
        select(Course.slug).where(or_(Course.slug == base, Course.slug.like(f"{base}-%")))
    )
    return set(rows)


async def list_page(
    db: AsyncSession,
    filters: CourseFilters,
    *,
    visible_to: uuid.UUID | None,
    see_all: bool,
    limit: int,
    offset: int,
) -> tuple[Sequence[Course], int]:
    conditions: list[ColumnElement[bool]] = []
    if not see_all:
        # Learners see the published catalogue; teachers also see their own drafts.
        conditions.append(
            or_(Course.is_published.is_(True), Course.created_by == visible_to)
            if visible_to is not None
            else Course.is_published.is_(True)
        )
    if filters.published is not None:
        conditions.append(Course.is_published.is_(filters.published))
    if filters.level is not None:
        conditions.append(Course.level == filters.level)
    if filters.min_price is not None:
        conditions.append(Course.price >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Course.price <= filters.max_price)
    if filters.mine and visible_to is not None:
        conditions.append(Course.created_by == visible_to)
    if filters.search:
        escaped = (
            filters.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conditions.append(SEARCH_EXPRESSION.like(f"%{escaped}%"))
    total = await db.scalar(select(func.count()).select_from(Course).where(*conditions))
    rows = await db.scalars(
        select(Course)
        .where(*conditions)
        .order_by(*_ORDER[filters.sort])
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total or 0


async def set_published(db: AsyncSession, course_id: uuid.UUID, published: bool) -> None:
    await db.execute(update(Course).where(Course.id == course_id).values(is_published=published))


async def delete_row(db: AsyncSession, course_id: uuid.UUID) -> bool:
    result = await db.execute(delete(Course).where(Course.id == course_id))
    return bool(getattr(result, "rowcount", 0))


async def existing_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(await db.scalars(select(Course.id).where(Course.id.in_(list(ids)))))


async def many(db: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Course]:
    if not ids:
        return []
    return (await db.scalars(select(Course).where(Course.id.in_(list(ids))))).all()


async def ids_created_by(db: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await db.scalars(select(Course.id).where(Course.created_by == user_id)))
