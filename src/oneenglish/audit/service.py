"""Audit entries: recorded in the PostgreSQL transaction of the change they describe (an outbox
row of the saga log), delivered to MongoDB by the relay; none is lost while MongoDB is down.
Append-only and kept forever: no delete, no retention, and one kind of update only, the
erasure's pseudonymisation: the entries of an erased user (they acted, or they were acted on)
keep who did what to what and when, and lose every personal value (the IP, and each value in
before/after except the few that say what kind of change it was). An entry delivered after the
erasure began is delivered pseudonymised."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import repository
from oneenglish.audit.schemas import DELIVER_AUDIT, AuditEntry, AuditLogOut, AuditLogQuery
from oneenglish.core.context import Actor
from oneenglish.core.cursors import CursorCodec, CursorPage, next_page
from oneenglish.core.documents import bounded
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.sagas.log import enqueue
from oneenglish.settings import Settings

# Entities whose id is a user id: their entries are that user's.
USER_ENTITIES = frozenset({"user", "user_profile", "user_settings"})
# What pseudonymisation keeps of before/after: which kind of change it was, nothing personal.
KEPT_WHEN_PSEUDONYMISED = frozenset(
    {"roles", "permissions", "is_active", "reason", "sessions", "sessions_revoked", "version"}
)
ERASED = "[erased]"


# Each side of an entry's changes is kept within this size: values over 1 KiB are summarised
# (size, SHA-256, first characters), and a side still too large is summarised whole. An entry
# is then a few KiB however large the document it describes (core.documents.bounded).
MAX_SIDE_BYTES = 8 * 1024


def _snapshot(value: BaseModel | dict[str, Any] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return bounded(value, MAX_SIDE_BYTES)


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
    enqueue(
        db,
        DELIVER_AUDIT,
        AuditEntry.model_validate({**entry, "timestamp": datetime.now(UTC)}),
        user_ids=_users_of(entry),
    )


def _users_of(entry: dict[str, Any]) -> list[uuid.UUID]:
    """The users an entry is about: who acted, and who was acted on."""
    named = [entry["actorId"]]
    if entry["entity"] in USER_ENTITIES:
        named.append(entry["entityId"])
    users: list[uuid.UUID] = []
    for value in named:
        try:
            users.append(uuid.UUID(value))
        except (TypeError, ValueError):
            continue
    return users


def pseudonymised(entry: dict[str, Any]) -> dict[str, Any]:
    changes = entry.get("changes") or {}
    return {
        **entry,
        "changes": {side: _pseudonymised_side(changes.get(side)) for side in ("before", "after")},
        "ipAddress": None,
        "pseudonymised": True,
    }


def _pseudonymised_side(value: Any) -> Any:
    if not isinstance(value, dict):
        return None if value is None else {"value": ERASED}
    return {k: (v if k in KEPT_WHEN_PSEUDONYMISED else ERASED) for k, v in value.items()}


async def deliver(
    mongo: Database, event_id: str, entry: AuditEntry, erased: frozenset[str] = frozenset()
) -> None:
    """Store the entry once; pseudonymised if a user it is about is erased or being erased."""
    document = entry.document()
    if erased and {str(u) for u in _users_of(document)} & erased:
        document = pseudonymised(document)
    await repository.insert_once(mongo, {**document, "_id": event_id})


async def pseudonymise_entries_of(mongo: Database, user_id: str) -> int:
    """Pseudonymise every entry of the user not yet pseudonymised; safe to repeat."""
    done = 0
    while batch := await repository.not_pseudonymised_of(mongo, user_id, limit=100):
        for entry in batch:
            changed = pseudonymised(entry)
            await repository.pseudonymise(mongo, entry["_id"], changed["changes"])
        done += len(batch)
    return done


async def entries_about_user(mongo: Database, user_id: str, limit: int) -> list[MongoDocument]:
    return await repository.find_for_user(mongo, user_id, limit)


async def write_now(
    mongo: Database,
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
        mongo, {"_id": uuid.uuid4().hex, **entry, "timestamp": datetime.now(UTC)}
    )


def _codec(settings: Settings) -> CursorCodec:
    return CursorCodec(settings.signing_key.encode(), "audit_logs")


async def list_entries(
    mongo: Database, settings: Settings, query: AuditLogQuery
) -> CursorPage[AuditLogOut]:
    """Newest first. An entry recorded before a page was read but delivered after it (the
    relay was behind) appears on a later page if it is older than that page's end."""
    codec = _codec(settings)
    after = codec.decode(query.cursor) if query.cursor else None
    documents = await repository.find_page(
        mongo,
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


def bounded_changes(document: MongoDocument) -> dict[str, Any]:
    """An entry's before/after as they are shown and exported: bounded like new entries, so an
    entry written before the bound existed (up to 16 MB) is summarised, not sent whole."""
    changes = document.get("changes") or {}
    return {side: _bounded_side(changes.get(side)) for side in ("before", "after")}


def _bounded_side(value: Any) -> Any:
    return None if value is None else bounded(value, MAX_SIDE_BYTES)


def _out(document: MongoDocument) -> AuditLogOut:
    return AuditLogOut(
        id=str(document["_id"]),
        actor_id=document.get("actorId"),
        action=document["action"],
        entity=document["entity"],
        entity_id=document["entityId"],
        changes=bounded_changes(document),
        ip_address=document.get("ipAddress"),
        request_id=document.get("requestId"),
        timestamp=document["timestamp"],
    )
