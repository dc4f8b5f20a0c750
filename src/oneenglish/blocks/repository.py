"""The only code that touches user_blocks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.blocks.models import UserBlock


async def add(db: AsyncSession, blocker: uuid.UUID, blocked: uuid.UUID) -> UserBlock:
    """The block, new or as it was: blocking twice changes nothing."""
    await db.execute(
        insert(UserBlock).values(blocker_id=blocker, blocked_id=blocked).on_conflict_do_nothing()
    )
    row = await db.get(UserBlock, (blocker, blocked), populate_existing=True)
    assert row is not None
    return row


async def remove(db: AsyncSession, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
    result = await db.execute(
        delete(UserBlock).where(UserBlock.blocker_id == blocker, UserBlock.blocked_id == blocked)
    )
    return bool(getattr(result, "rowcount", 0))


async def either_blocked(db: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> bool:
    found = await db.scalar(
        select(func.count())
        .select_from(UserBlock)
        .where(
            or_(
                and_(UserBlock.blocker_id == a, UserBlock.blocked_id == b),
                and_(UserBlock.blocker_id == b, UserBlock.blocked_id == a),
            )
        )
    )
    return bool(found)


async def page_of(
    db: AsyncSession, blocker: uuid.UUID, limit: int, offset: int
) -> tuple[Sequence[UserBlock], int]:
    rows = await db.scalars(
        select(UserBlock)
        .where(UserBlock.blocker_id == blocker)
        .order_by(UserBlock.created_at.desc(), UserBlock.blocked_id)
        .limit(limit)
        .offset(offset)
    )
    total = await db.scalar(
        select(func.count()).select_from(UserBlock).where(UserBlock.blocker_id == blocker)
    )
    return rows.all(), int(total or 0)


async def all_of(db: AsyncSession, blocker: uuid.UUID) -> Sequence[UserBlock]:
    rows = await db.scalars(
        select(UserBlock).where(UserBlock.blocker_id == blocker).order_by(UserBlock.created_at)
    )
    return rows.all()
