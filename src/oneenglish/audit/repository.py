"""The only code that touches audit_logs (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference). Append-only: nothing here deletes, and
the one update is the erasure's pseudonymisation of an entry (audit/service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from oneenglish.audit.models import COLLECTION
from oneenglish.core.cursors import log_filter
from oneenglish.db.mongo import Database, MongoDocument, find_within_message_size
from oneenglish.db.sharding import MAJORITY

NEWEST_FIRST = [("timestamp", -1), ("_id", -1)]


async def insert_once(mongo: Database, entry: dict[str, Any]) -> bool:
    """Insert by `_id`; an entry already there (a redelivery) is left as it is. Acknowledged by
    a majority of a replica set (db/sharding.py): an audit entry survives a failover."""
    try:
        await mongo[COLLECTION].with_options(write_concern=MAJORITY).insert_one(entry)
    except DuplicateKeyError:
        return False
    return True


def _of_user(user_id: str) -> dict[str, Any]:
    return {"$or": [{"actorId": user_id}, {"entityId": user_id}]}


async def not_pseudonymised_of(mongo: Database, user_id: str, limit: int) -> list[MongoDocument]:
    return await find_within_message_size(
        mongo[COLLECTION],
        {**_of_user(user_id), "pseudonymised": {"$ne": True}},
        sort=[("_id", 1)],
        limit=limit,
        projection={"changes": 1, "ipAddress": 1},
    )


async def pseudonymise(mongo: Database, entry_id: Any, changes: dict[str, Any]) -> None:
    await mongo[COLLECTION].update_one(
        {"_id": entry_id},
        {"$set": {"changes": changes, "ipAddress": None, "pseudonymised": True}},
    )


async def find_for_user(mongo: Database, user_id: str, limit: int) -> list[MongoDocument]:
    return await find_within_message_size(
        mongo[COLLECTION],
        _of_user(user_id),
        sort=NEWEST_FIRST,
        limit=limit,
    )


def list_query(
    *,
    actor_id: str | None,
    entity: str | None,
    entity_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, str] | None,
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Filter and sort of one page (tests explain every shape against the indexes)."""
    equals = {"actorId": actor_id, "entity": entity, "entityId": entity_id}
    return log_filter(equals, start=start, end=end, after=after), NEWEST_FIRST


async def find_page(
    mongo: Database,
    *,
    actor_id: str | None,
    entity: str | None,
    entity_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MongoDocument]:
    query, sort = list_query(
        actor_id=actor_id,
        entity=entity,
        entity_id=entity_id,
        start=start,
        end=end,
        after=after,
    )
    return await find_within_message_size(mongo[COLLECTION], query, sort=sort, limit=limit)
