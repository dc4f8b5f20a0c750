from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.mail.models import MailDigest

_CLAIM = text(
    """
    WITH previous AS (
        SELECT max(covered_until) AS until FROM mail_digests
        WHERE user_id = :user_id AND frequency = :frequency
    ), claimed AS (
        INSERT INTO mail_digests (user_id, frequency, period, covered_until)
        VALUES (:user_id, :frequency, :period, :until)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, (SELECT until FROM previous) AS since
    """
)


async def claim_digest(
    db: AsyncSession,
    user_id: uuid.UUID,
    frequency: str,
    period: str,
    until: datetime,
    first_since: datetime,
) -> datetime | None:
    row = (
        await db.execute(
            _CLAIM,
            {"user_id": user_id, "frequency": frequency, "period": period, "until": until},
        )
    ).one()
    if not row.claimed:
        return None
    since: datetime | None = row.since
    return since or first_since


async def count_digest(
    db: AsyncSession, user_id: uuid.UUID, frequency: str, period: str, n: int
) -> None:
    await db.execute(
        text(
            "UPDATE mail_digests SET notifications = :n "
            "WHERE user_id = :user_id AND frequency = :frequency AND period = :period"
        ),
        {"n": n, "user_id": user_id, "frequency": frequency, "period": period},
    )


async def digests_of(db: AsyncSession, user_id: uuid.UUID) -> Sequence[MailDigest]:
    return (
        await db.scalars(
            select(MailDigest).where(MailDigest.user_id == user_id).order_by(MailDigest.created_at)
        )
    ).all()
