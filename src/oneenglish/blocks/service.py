"""Blocks: a user stops another from messaging them (and themselves from messaging back)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.blocks import repository
from oneenglish.blocks.schemas import BlockOut
from oneenglish.core.context import Actor
from oneenglish.core.errors import InvalidInput, NotFound
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.users import service as users


async def block(db: AsyncSession, actor: Actor, blocker: uuid.UUID, blocked: uuid.UUID) -> BlockOut:
    if blocker == blocked:
        raise InvalidInput(
            "You cannot block yourself", errors=[{"loc": ["body", "user_id"], "msg": "yourself"}]
        )
    await users.require_active_user(db, blocked)
    row = await repository.add(db, blocker, blocked)
    audit.record(db, actor, "user.blocked", "user", blocked)
    return BlockOut(user_id=row.blocked_id, created_at=row.created_at)


async def unblock(db: AsyncSession, actor: Actor, blocker: uuid.UUID, blocked: uuid.UUID) -> None:
    if not await repository.remove(db, blocker, blocked):
        raise NotFound(f"You have not blocked {blocked}")
    audit.record(db, actor, "user.unblocked", "user", blocked)


async def blocks_of(
    db: AsyncSession, blocker: uuid.UUID, limit: int, offset: int
) -> tuple[list[BlockOut], int]:
    rows, total = await repository.page_of(db, blocker, limit, offset)
    return [BlockOut(user_id=r.blocked_id, created_at=r.created_at) for r in rows], total


async def either_blocked(db: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> bool:
    return await repository.either_blocked(db, a, b)


async def export_rows(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    """The blocks the user made (blocks of the user by others are those others' data)."""
    return [
        {"blocked_user_id": str(r.blocked_id), "created_at": r.created_at.isoformat()}
        for r in await repository.all_of(db, user_id)
    ]


register_user_table(UserTable("user_blocks", "blocks", export_rows))
