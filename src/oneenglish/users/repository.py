"""Queries on the users table."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db import postgres
from oneenglish.users.models import SEARCH_SQL, User

# The same expression as the trigram index, so that the index serves the search.
SEARCH_EXPRESSION: ColumnElement[str] = literal_column(SEARCH_SQL, String)


async def insert(db: AsyncSession, **values: Any) -> User:
    user = User(**values)
    db.add(user)
    await db.flush()  # eager defaults: id and timestamps come back with the INSERT
    return user


async def get(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db.get(User, user_id)


# An account is read on every profile view, so on the driver (see db.postgres.fetch).
ACCOUNT_SQL = """
SELECT u.id, u.email, u.username, u.first_name, u.last_name, u.display_name, u.avatar_url,
       u.is_active, u.email_verified_at,
       u.created_at, u.updated_at, {roles} AS roles
FROM users u WHERE u.id = $1
"""


async def get_with_roles(
    db: AsyncSession, user_id: uuid.UUID, roles_sql: str
) -> postgres.Record | None:
    """The account's columns (no password hash) and its `roles`, sorted."""
    return await postgres.fetch_one(db, ACCOUNT_SQL.format(roles=roles_sql), user_id)


async def get_for_update(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db.scalar(select(User).where(User.id == user_id).with_for_update())


async def get_by_identifier(db: AsyncSession, identifier: str) -> User | None:
    """By email or username, case-insensitively (both served by unique expression indexes)."""
    lowered = identifier.lower()
    column = func.lower(User.email) if "@" in identifier else func.lower(User.username)
    return await db.scalar(select(User).where(column == lowered))


async def get_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def list_page(
    db: AsyncSession,
    *,
    limit: int,
    offset: int,
    is_active: bool | None,
    search: str | None,
    user_ids: Select[uuid.UUID] | None,
) -> tuple[Sequence[User], int]:
    conditions = []
    if is_active is not None:
        conditions.append(User.is_active.is_(is_active))
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(SEARCH_EXPRESSION.like(f"%{escaped}%"))
    if user_ids is not None:
        conditions.append(User.id.in_(user_ids.scalar_subquery()))
    total = await db.scalar(select(func.count()).select_from(User).where(*conditions))
    rows = await db.scalars(
        select(User)
        .where(*conditions)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total or 0


async def count_outside_domain(
    db: AsyncSession, email_domain: str, excluded_ids: Select[uuid.UUID]
) -> int:
    return (
        await db.scalar(
            select(func.count())
            .select_from(User)
            .where(
                ~func.lower(User.email).endswith(f"@{email_domain.lower()}"),
                User.id.not_in(excluded_ids.scalar_subquery()),
            )
        )
    ) or 0


async def set_password_hash(db: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    await db.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


async def count_with_state(db: AsyncSession, user_ids: Sequence[uuid.UUID], active: bool) -> int:
    return (
        await db.scalar(
            select(func.count())
            .select_from(User)
            .where(User.id.in_(user_ids), User.is_active.is_(active))
        )
    ) or 0


def email_or_username_taken(exc_text: str) -> str | None:
    for field in ("email", "username"):
        if f"uq_users_{field}_lower" in exc_text:
            return field
    return None


async def delete(db: AsyncSession, user_id: uuid.UUID) -> bool:
    result = await db.execute(sa_delete(User).where(User.id == user_id))
    return bool(getattr(result, "rowcount", 0))


async def lock_live(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the users that exist and are not being erased, share-locked until the caller's
    transaction ends. An erasure waits for the lock, and a lock taken after the erasure began
    finds the row changed (PostgreSQL re-checks a locked row's conditions) or gone."""
    if not user_ids:
        return set()
    rows = await db.scalars(
        select(User.id)
        .where(User.id.in_(list(user_ids)), User.erased_at.is_(None))
        .with_for_update(read=True)
    )
    return set(rows)


async def existing_ids(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not user_ids:
        return set()
    rows = await db.scalars(select(User.id).where(User.id.in_(list(user_ids))))
    return set(rows)


async def iterate_ids(db: AsyncSession, batch_size: int) -> AsyncIterator[list[uuid.UUID]]:
    """Every user id, in batches, by keyset (no OFFSET scans, no long-held cursor)."""
    last: uuid.UUID | None = None
    while True:
        query = select(User.id).order_by(User.id).limit(batch_size)
        if last is not None:
            query = query.where(User.id > last)
        batch = list(await db.scalars(query))
        if not batch:
            return
        yield batch
        last = batch[-1]


async def card_rows(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    """What a card shows, of live (not erased) users."""
    rows = await db.execute(
        select(
            User.id,
            User.username,
            User.first_name,
            User.last_name,
            User.display_name,
            User.avatar_url,
        ).where(User.id.in_(list(user_ids)), User.erased_at.is_(None))
    )
    return rows.all()


async def usernames(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(list(user_ids))))
    return {row[0]: row[1] for row in rows}


async def signups_per_bucket(
    db: AsyncSession, start: datetime, end: datetime, bucket: str
) -> list[tuple[datetime, int]]:
    """Accounts created per day or week (ix_users_created_at_id serves the range)."""
    period = func.date_trunc(bucket, User.created_at, "UTC")
    rows = await db.execute(
        select(period, func.count())
        .where(User.created_at >= start, User.created_at < end)
        .group_by(period)
        .order_by(period)
    )
    return [(r[0], int(r[1])) for r in rows]


async def mark_email_verified(db: AsyncSession, user_id: uuid.UUID, email: str) -> bool:
    result = await db.execute(
        update(User)
        .where(User.id == user_id, func.lower(User.email) == email.lower())
        .values(email_verified_at=func.coalesce(User.email_verified_at, func.now()))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
