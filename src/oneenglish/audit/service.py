"""Audit entries: recorded in the PostgreSQL transaction of the change they describe (an outbox
row of the saga log), delivered to MongoDB by the relay; none is lost while MongoDB is down.
Append-only and kept forever: there is no update, no delete and no retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import repository
from oneenglish.audit.schemas import AuditLogOut, AuditLogQuery
from oneenglish.core.context import Actor
from oneenglish.core.cursors import CursorCodec, CursorPage, next_page
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.sagas.runner import enqueue
from oneenglish.settings import Settings

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


def _codec(settings: Settings) -> CursorCodec:
    return CursorCodec(settings.signing_key.encode(), "audit_logs")


async def list_entries(
    db: Database, settings: Settings, query: AuditLogQuery
) -> CursorPage[AuditLogOut]:
    """Newest first. An entry recorded before a page was read but delivered after it (the
    relay was behind) appears on a later page if it is older than that page's end."""
    codec = _codec(settings)
    after = codec.decode(query.cursor) if query.cursor else None
    documents = await repository.find_page(
        db,
        actor_id=str(query.actor) if query.actor else None,
        entity=query.entity,
        entity_id=query.entity_id,
        start=query.from_,
        end=query.to,
        after=after,
        limit=query.limit + 1,
    )
    page, next_cursor = next_page(
        documents, query.limit, codec, lambda d: (d["timestamp"], d["_id"])
    )
    return CursorPage(items=[_out(d) for d in page], next_cursor=next_cursor)


def _out(document: MongoDocument) -> AuditLogOut:
    changes = document.get("changes") or {}
    return AuditLogOut(
        id=str(document["_id"]),
        actor_id=document.get("actorId"),
        action=document["action"],
        entity=document["entity"],
        entity_id=document["entityId"],
        changes={"before": changes.get("before"), "after": changes.get("after")},
        ip_address=document.get("ipAddress"),
        request_id=document.get("requestId"),
        timestamp=document["timestamp"],
    )
