"""Queries on the courses table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.courses.models import SEARCH_SQL, Course, CourseRow
from oneenglish.courses.schemas import CourseFilters
from oneenglish.db import postgres


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


async def get_by_slug(db: AsyncSession, slug: str) -> Course | None:
    return await db.scalar(select(Course).where(Course.slug == slug))


async def slugs_like(db: AsyncSession, base: str) -> set[str]:
    rows = await db.scalars(
        select(Course.slug).where(or_(Course.slug == base, Course.slug.like(f"{base}-%")))
    )
    return set(rows)


# The catalogue page is the busiest list, so it runs on the driver (see db.postgres.fetch):
# one statement gives the page and, by a window count, the total.
_COLUMNS = postgres.columns(CourseRow)
_ORDER_SQL = {
    "newest": "created_at DESC, id DESC",
    "oldest": "created_at ASC, id ASC",
    "title": "title ASC, id ASC",
    "price": "price ASC, id ASC",
    "-price": "price DESC, id DESC",
}


ROW_SQL = f"SELECT {_COLUMNS} FROM courses WHERE id = $1"  # noqa: S608 - our own columns


async def get_row(db: AsyncSession, course_id: uuid.UUID) -> CourseRow | None:
    """A course for reading (on the driver): for what only looks at it."""
    return await postgres.fetch_row(db, CourseRow, ROW_SQL, course_id)


def page_sql(
    filters: CourseFilters,
    *,
    visible_to: uuid.UUID | None,
    see_all: bool,
    limit: int,
    offset: int,
) -> tuple[str, str, list[Any]]:
    """The page statement (each row carrying the total as `total`), the count statement for a
    page past the end, and their parameters (the count takes all but the last two)."""
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    if not see_all:
        # Learners see the published catalogue; teachers also see their own drafts.
        where.append(
            f"(is_published OR created_by = {param(visible_to)})"
            if visible_to is not None
            else "is_published"
        )
    if filters.published is not None:
        where.append(f"is_published = {param(filters.published)}")
    if filters.level is not None:
        where.append(f"level = {param(filters.level)}")
    if filters.min_price is not None:
        where.append(f"price >= {param(filters.min_price)}")
    if filters.max_price is not None:
        where.append(f"price <= {param(filters.max_price)}")
    if filters.mine and visible_to is not None:
        where.append(f"created_by = {param(visible_to)}")
    if filters.search:
        escaped = (
            filters.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        where.append(f"{SEARCH_SQL} LIKE {param(f'%{escaped}%')}")
    condition = " AND ".join(where) or "true"
    count = f"SELECT count(*) FROM courses WHERE {condition}"  # noqa: S608 - fragments above
    page = (
        f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM courses WHERE {condition} "  # noqa: S608
        f"ORDER BY {_ORDER_SQL[filters.sort]} LIMIT {param(limit)} OFFSET {param(offset)}"
    )
    return page, count, args


async def list_page(
    db: AsyncSession,
    filters: CourseFilters,
    *,
    visible_to: uuid.UUID | None,
    see_all: bool,
    limit: int,
    offset: int,
) -> tuple[Sequence[postgres.Record], int]:
    page, count, args = page_sql(
        filters, visible_to=visible_to, see_all=see_all, limit=limit, offset=offset
    )
    rows = await postgres.fetch(db, page, *args)
    if rows:
        return rows, rows[0]["total"]
    if offset == 0:
        return rows, 0
    # Past the last page the window has no row to ride on.
    total = await postgres.fetch_one(db, count, *args[:-2])
    return rows, total[0] if total else 0


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


def created_by_query(user_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Course.id).where(Course.created_by == user_id)


async def created_by(db: AsyncSession, user_id: uuid.UUID) -> Sequence[Course]:
    rows = await db.scalars(
        select(Course).where(Course.created_by == user_id).order_by(Course.created_at)
    )
    return rows.all()


async def ids_created_by(db: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await db.scalars(select(Course.id).where(Course.created_by == user_id)))
