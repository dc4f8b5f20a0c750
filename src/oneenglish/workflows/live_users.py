"""Writes of a user's data that MongoDB takes outside a saga: made only while the user is not
being erased, under a share lock on their PostgreSQL row held until the write is done.

The erasure's first transaction locks that row exclusively and marks it erased
(workflows/erase_user.py): a write that got the share lock first finishes before the erasure
starts deleting, so the erasure removes what it wrote; a write that comes later finds the mark
and writes nothing. This is what makes erasure final for the profile and settings updates,
chat, and the activity and error-log writers; saga steps get the same lock from the saga runner
(Saga.user_ids)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.background import UserGuard
from oneenglish.core.errors import NotFound
from oneenglish.users import service as users


@contextlib.asynccontextmanager
async def live_users(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> AsyncIterator[None]:
    """Share-lock the users for the block (committed at its end, in the caller's session); a
    user who is gone or being erased is a 404, before anything is written."""
    live = await users.lock_live_users(db, user_ids)
    missing = [u for u in user_ids if u not in live]
    if missing:
        await db.rollback()
        raise NotFound(f"No user {missing[0]}")
    yield
    await db.commit()


def batch_guard(sessionmaker: async_sessionmaker[AsyncSession]) -> UserGuard:
    """For the background writers: given the user ids of a batch, hold their share locks for
    the block and yield those erased or being erased (their entries must not be written)."""

    @contextlib.asynccontextmanager
    async def guard(user_ids: Sequence[str]) -> AsyncIterator[frozenset[str]]:
        wanted = {_as_uuid(u) for u in user_ids} - {None}
        if not wanted:  # entries of nobody (anonymous errors): PostgreSQL is not needed
            yield frozenset()
            return
        async with sessionmaker() as db, db.begin():
            live = await users.lock_live_users(db, [u for u in wanted if u is not None])
            yield frozenset(u for u in user_ids if _as_uuid(u) not in live)

    return guard


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None
