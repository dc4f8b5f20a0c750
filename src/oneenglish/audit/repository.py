"""The only code that touches audit_logs."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from oneenglish.audit.models import COLLECTION
from oneenglish.db.mongo import Database, MongoDocument


async def insert_once(db: Database, entry: dict[str, Any]) -> bool:
    """Insert by `_id`; an entry already there (a redelivery) is left as it is."""
    try:
        await db[COLLECTION].insert_one(entry)
    except DuplicateKeyError:
        return False
    return True


async def find_for_user(db: Database, user_id: str, limit: int) -> list[MongoDocument]:
    cursor = (
        db[COLLECTION]
        .find({"$or": [{"actorId": user_id}, {"entityId": user_id}]})
        .sort([("timestamp", -1), ("_id", -1)])
        .limit(limit)
    )
    return await cursor.to_list()
