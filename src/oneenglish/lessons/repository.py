"""Queries on the lessons table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db import postgres
from oneenglish.lessons.models import Lesson, LessonRow


async def insert(db: AsyncSession, **values: Any) -> Lesson:
    lesson = Lesson(**values)
    db.add(lesson)
    await db.flush()
    return lesson


async def get(db: AsyncSession, lesson_id: uuid.UUID, *, for_update: bool = False) -> Lesson | None:
    query = select(Lesson).where(Lesson.id == lesson_id)
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


ROW_SQL = f"SELECT {postgres.columns(LessonRow)} FROM lessons WHERE id = $1"  # noqa: S608


async def get_row(db: AsyncSession, lesson_id: uuid.UUID) -> LessonRow | None:
    """A lesson for reading (on the driver): for what only looks at it."""
    return await postgres.fetch_row(db, LessonRow, ROW_SQL, lesson_id)


PREVIOUS_SQL = (
    f"SELECT {postgres.columns(LessonRow)} FROM lessons "  # noqa: S608 - our own columns
    'WHERE course_id = $1 AND is_published AND "order" < $2 ORDER BY "order" DESC LIMIT 1'
)


async def previous_published(db: AsyncSession, lesson: LessonRow) -> LessonRow | None:
    return await postgres.fetch_row(db, LessonRow, PREVIOUS_SQL, lesson.course_id, lesson.order)


async def of_course(
    db: AsyncSession, course_id: uuid.UUID, *, published_only: bool
) -> Sequence[Lesson]:
    query = select(Lesson).where(Lesson.course_id == course_id)
    if published_only:
        query = query.where(Lesson.is_published.is_(True))
    return (await db.scalars(query.order_by(Lesson.order))).all()


async def ids_of_course(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await db.scalars(select(Lesson.id).where(Lesson.course_id == course_id)))


async def published_ids(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await db.scalars(
            select(Lesson.id).where(Lesson.course_id == course_id, Lesson.is_published.is_(True))
        )
    )


async def slugs_like(db: AsyncSession, course_id: uuid.UUID, base: str) -> set[str]:
    rows = await db.scalars(
        select(Lesson.slug).where(
            Lesson.course_id == course_id,
            or_(Lesson.slug == base, Lesson.slug.like(f"{base}-%")),
        )
    )
    return set(rows)


async def count(db: AsyncSession, course_id: uuid.UUID) -> int:
    return (
        await db.scalar(
            select(func.count()).select_from(Lesson).where(Lesson.course_id == course_id)
        )
    ) or 0


async def defer_order_uniqueness(db: AsyncSession) -> None:
    """Positions may collide until the transaction commits (a shift or a reorder)."""
    await db.execute(text("SET CONSTRAINTS uq_lessons_course_id_order DEFERRED"))


async def shift_down_from(db: AsyncSession, course_id: uuid.UUID, position: int) -> None:
    await db.execute(
        update(Lesson)
        .where(Lesson.course_id == course_id, Lesson.order >= position)
        .values(order=Lesson.order + 1)
        .execution_options(synchronize_session=False)
    )


async def close_gap_at(db: AsyncSession, course_id: uuid.UUID, position: int) -> None:
    await db.execute(
        update(Lesson)
        .where(Lesson.course_id == course_id, Lesson.order > position)
        .values(order=Lesson.order - 1)
        .execution_options(synchronize_session=False)
    )


async def set_positions(
    db: AsyncSession, course_id: uuid.UUID, ordered: Sequence[uuid.UUID]
) -> None:
    await db.execute(
        text(
            'UPDATE lessons AS l SET "order" = v.position '
            "FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS v(id, position) "
            "WHERE l.id = v.id AND l.course_id = :course_id"
        ),
        {"ids": list(ordered), "course_id": course_id},
    )


async def delete_row(db: AsyncSession, lesson_id: uuid.UUID) -> Lesson | None:
    lesson = await get(db, lesson_id)
    if lesson is None:
        return None
    await db.execute(delete(Lesson).where(Lesson.id == lesson_id))
    return lesson


async def existing_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(await db.scalars(select(Lesson.id).where(Lesson.id.in_(list(ids)))))


def published_ids_query(course_ids: Any = None) -> Any:
    """(lesson_id, course_id) of published lessons, composable into another domain's query so
    a learner's progress stays one SQL aggregate."""
    query = select(Lesson.id.label("lesson_id"), Lesson.course_id.label("course_id")).where(
        Lesson.is_published.is_(True)
    )
    if course_ids is not None:
        query = query.where(Lesson.course_id.in_(course_ids))
    return query
