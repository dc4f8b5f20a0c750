"""The only code that touches idempotency_keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.idempotency.models import IdempotencyKey


async def get(db: AsyncSession, scope: str, key: str) -> IdempotencyKey | None:
    return await db.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at > text("now()"),
        )
    )


async def insert_once(db: AsyncSession, ttl_seconds: int, **values: Any) -> bool:
    """False if a row for the same scope and key exists (a concurrent request committed it)."""
    statement = (
        insert(IdempotencyKey)
        .values(**values, expires_at=text(f"now() + interval '{int(ttl_seconds)} seconds'"))
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.scope, IdempotencyKey.key],
            # An expired row is replaced; a live one is left as it is.
            set_={
                "fingerprint": values["fingerprint"],
                "user_id": values["user_id"],
                "status_code": values["status_code"],
                "body": values["body"],
                "saga_id": values["saga_id"],
                "created_at": text("now()"),
                "expires_at": text(f"now() + interval '{int(ttl_seconds)} seconds'"),
            },
            where=IdempotencyKey.expires_at <= text("now()"),
        )
        .returning(IdempotencyKey.key)
    )
    return (await db.execute(statement)).first() is not None


async def delete_one(db: AsyncSession, scope: str, key: str) -> None:
    await db.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


async def delete_expired(db: AsyncSession) -> int:
    result = await db.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= text("now()"))
    )
    return int(getattr(result, "rowcount", 0) or 0)
