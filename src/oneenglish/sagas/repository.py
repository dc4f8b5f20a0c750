"""Queries on the saga log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.sagas.models import COMPLETED, FAILED, PENDING, UNFINISHED, Saga


def add(
    db: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    subject_id: uuid.UUID | None,
    lease_seconds: float,
    user_ids: Sequence[uuid.UUID] = (),
) -> Saga:
    saga = Saga(
        id=uuid.uuid4(),
        kind=kind,
        payload=payload,
        subject_id=subject_id,
        user_ids=list(dict.fromkeys(user_ids)),
        next_attempt_at=func.now() + timedelta(seconds=lease_seconds),
    )
    db.add(saga)
    return saga


async def lock(db: AsyncSession, saga_id: uuid.UUID) -> Saga | None:
    """Wait for and lock one saga (the request that started it runs it under this lock)."""
    return await db.scalar(
        select(Saga)
        .where(Saga.id == saga_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_due(
    db: AsyncSession,
    limit: int,
    *,
    ignore_lease: bool = False,
    excluding: Sequence[uuid.UUID] = (),
) -> Sequence[Saga]:
    """Unfinished sagas that are due, locked; rows another process holds are skipped, so
    several processes can recover at once without running a step twice. `excluding`: those
    this pass has seen already."""
    query = select(Saga).where(Saga.status.in_(UNFINISHED))
    if not ignore_lease:
        query = query.where(Saga.next_attempt_at <= func.now())
    if excluding:
        query = query.where(Saga.id.not_in(list(excluding)))
    rows = await db.scalars(
        query.order_by(Saga.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return rows.all()


async def unfinished_subjects(db: AsyncSession, subject_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not subject_ids:
        return set()
    rows = await db.scalars(
        select(Saga.subject_id).where(
            Saga.status.in_(UNFINISHED), Saga.subject_id.in_(list(subject_ids))
        )
    )
    return {s for s in rows if s is not None}


async def count_by_status(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(select(Saga.status, func.count()).group_by(Saga.status))
    return {row[0]: row[1] for row in rows}


async def delete_finished_before(db: AsyncSession, older_than_seconds: int) -> int:
    result = await db.execute(
        delete(Saga).where(
            Saga.finished_at.is_not(None),
            Saga.finished_at < func.now() - timedelta(seconds=older_than_seconds),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def relax_commit_durability(db: AsyncSession) -> None:
    """This transaction's commit returns before its WAL record reaches disk."""
    await db.execute(text("SET LOCAL synchronous_commit TO off"))


async def complete_if_pending(
    db: AsyncSession,
    saga_id: uuid.UUID,
    steps: dict[str, Any],
    *,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Mark completed unless recovery already decided otherwise; True if this call did. A
    `payload` replaces the stored one (a saga skipped for an erased user keeps none of it)."""
    values: dict[str, Any] = {
        "status": COMPLETED,
        "steps": steps,
        "finished_at": func.now(),
        "last_error": None,
    }
    if payload is not None:
        values["payload"] = payload
    result = await db.execute(
        update(Saga)
        .where(Saga.id == saga_id, Saga.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_user(db: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID) -> int:
    """Delete the finished sagas that name the user (their payloads may quote the user's data),
    except `keep`. Rows another process holds are left: it is running them, finds the user
    erased and scrubs them itself (SagaRunner)."""
    locked = (
        select(Saga.id)
        .where(
            Saga.user_ids.contains([user_id]),
            Saga.id != keep,
            Saga.status.not_in(UNFINISHED),
        )
        .with_for_update(skip_locked=True)
    )
    result = await db.execute(delete(Saga).where(Saga.id.in_(locked.scalar_subquery())))
    return int(getattr(result, "rowcount", 0) or 0)


async def unfinished_naming_user(
    db: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID
) -> Sequence[Saga]:
    """The unfinished sagas that name the user and no other process holds, locked."""
    rows = await db.scalars(
        select(Saga)
        .where(Saga.user_ids.contains([user_id]), Saga.id != keep, Saga.status.in_(UNFINISHED))
        .with_for_update(skip_locked=True)
    )
    return rows.all()


async def keep_payload_fields(db: AsyncSession, saga_id: uuid.UUID, keep: Sequence[str]) -> None:
    saga = await db.get(Saga, saga_id)
    if saga is not None:
        saga.payload = {k: v for k, v in saga.payload.items() if k in keep}


async def status_of(db: AsyncSession, saga_id: uuid.UUID) -> str | None:
    return await db.scalar(select(Saga.status).where(Saga.id == saga_id))


async def backlog(db: AsyncSession) -> dict[str, tuple[int, float]]:
    """Per unfinished or failed status: how many sagas, and the oldest one's age in seconds
    (the metrics' saga backlog; the due index covers the unfinished ones)."""
    rows = await db.execute(
        select(
            Saga.status,
            func.count(),
            func.extract("epoch", func.now() - func.min(Saga.created_at)),
        )
        .where(Saga.status.in_((*UNFINISHED, FAILED)))
        .group_by(Saga.status)
    )
    return {row[0]: (int(row[1]), float(row[2])) for row in rows}
