"""Audit entries: recorded in the PostgreSQL transaction of the change they describe (an outbox
row of the saga log), delivered to MongoDB by the relay; none is lost while MongoDB is down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import repository
from oneenglish.core.context import Actor
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.sagas.runner import enqueue

DELIVER_AUDIT = "deliver_audit"


def _snapshot(value: BaseModel | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def _entry(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str,
    before: BaseModel | dict[str, Any] | None,
    after: BaseModel | dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "actorId": str(actor.user_id) if actor.user_id else None,
        "action": action,
        "entity": entity,
        "entityId": str(entity_id),
        "changes": {"before": _snapshot(before), "after": _snapshot(after)},
        "ipAddress": actor.ip,
        "requestId": actor.request_id,
    }


def record(
    db: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str,
    *,
    before: BaseModel | dict[str, Any] | None = None,
    after: BaseModel | dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the caller's transaction; it exists exactly if the change does."""
    entry = _entry(actor, action, entity, entity_id, before, after)
    enqueue(db, DELIVER_AUDIT, {**entry, "timestamp": datetime.now(UTC).isoformat()})


async def deliver(db: Database, event_id: str, entry: dict[str, Any]) -> None:
    stored = {**entry, "_id": event_id, "timestamp": datetime.fromisoformat(entry["timestamp"])}
    await repository.insert_once(db, stored)


async def entries_about_user(db: Database, user_id: str, limit: int) -> list[MongoDocument]:
    return await repository.find_for_user(db, user_id, limit)


async def write_now(
    db: Database,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str,
    *,
    before: BaseModel | dict[str, Any] | None = None,
    after: BaseModel | dict[str, Any] | None = None,
) -> None:
    """For changes that live in MongoDB only: the entry is written right after the change, to
    the database that just accepted it (there is no PostgreSQL transaction to ride along)."""
    entry = _entry(actor, action, entity, entity_id, before, after)
    await repository.insert_once(
        db, {"_id": uuid.uuid4().hex, **entry, "timestamp": datetime.now(UTC)}
    )
