from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts.models import AccountToken


def add(
    db: AsyncSession,
    user_id: uuid.UUID,
    purpose: str,
    token_id: uuid.UUID,
    token_hash: bytes,
    email: str,
    expires_at: datetime,
) -> None:
    db.add(
        AccountToken(
            id=token_id,
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            email=email,
            expires_at=expires_at,
        )
    )


async def lock_by_hash(db: AsyncSession, token_hash: bytes) -> AccountToken | None:
    return await db.scalar(
        select(AccountToken).where(AccountToken.token_hash == token_hash).with_for_update()
    )


async def find_by_hash(db: AsyncSession, token_hash: bytes) -> AccountToken | None:
    return await db.scalar(select(AccountToken).where(AccountToken.token_hash == token_hash))


async def end_unused(db: AsyncSession, user_id: uuid.UUID, purposes: Sequence[str]) -> int:
    """Mark the user's unused tokens of these purposes used: a newer one supersedes them."""
    result = await db.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose.in_(purposes),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_used(db: AsyncSession, token: AccountToken) -> None:
    token.used_at = func.now()
    await db.flush()


async def delete_expired(db: AsyncSession, older_than: timedelta) -> int:
    """Tokens past their expiry (kept a while, so a late click says "expired", not "invalid")."""
    result = await db.execute(
        delete(AccountToken).where(AccountToken.expires_at < func.now() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[AccountToken]:
    return (
        await db.scalars(
            select(AccountToken)
            .where(AccountToken.user_id == user_id)
            .order_by(AccountToken.created_at)
        )
    ).all()
