"""Partial updates of PostgreSQL rows from Patch schemas, the same way everywhere."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from oneenglish.core.errors import Conflict


async def apply_patch(
    db: AsyncSession, row: DeclarativeBase, patch: BaseModel, *, conflict: str, field: str
) -> None:
    """Set the fields the client sent (null leaves a field as it is) and flush; a unique
    constraint that refuses the new values is a 409 naming `field`, and the session stays
    usable (the flush ran in a savepoint)."""
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(row, name, value)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:
        raise Conflict(conflict, field=field) from exc
    await db.refresh(row)
