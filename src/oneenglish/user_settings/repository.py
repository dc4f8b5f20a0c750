"""The only code that touches user_settings (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from oneenglish.db.mongo import Database, MongoDocument, replace_changed
from oneenglish.user_settings.models import COLLECTION


async def create_if_missing(mongo: Database, user_id: str, defaults: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    await mongo[COLLECTION].update_one(
        {"_id": user_id},
        {
            "$setOnInsert": {
                "userId": user_id,
                "settings": defaults,
                "createdAt": now,
                "updatedAt": now,
            }
        },
        upsert=True,
    )


async def get(mongo: Database, user_id: str) -> MongoDocument | None:
    return await mongo[COLLECTION].find_one({"_id": user_id})


async def merge(
    mongo: Database, user_id: str, merged: Callable[[dict[str, Any]], dict[str, Any]]
) -> MongoDocument | None:
    """Store `merged(current settings)` whole, if nobody changed the document meanwhile (else
    read again): a stored object is then never larger than the one `merged` checked. On
    FerretDB, whose updates are not atomic, the last writer wins, still within the bound."""

    def change(current: MongoDocument) -> MongoDocument:
        return {**current, "settings": merged(current.get("settings", {})), "updatedAt": _now()}

    return await replace_changed(mongo[COLLECTION], user_id, change)


def _now() -> datetime:
    return datetime.now(UTC)


async def delete(mongo: Database, user_id: str) -> None:
    await mongo[COLLECTION].delete_one({"_id": user_id})


async def existing_ids(mongo: Database, user_ids: Sequence[str]) -> set[str]:
    cursor = mongo[COLLECTION].find({"_id": {"$in": list(user_ids)}}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


async def set_preferences(
    mongo: Database, user_id: str, preferences: dict[str, str], digests: list[str]
) -> MongoDocument | None:
    """Set some notification channels, and the digest frequencies all of them now name."""
    return await mongo[COLLECTION].find_one_and_update(
        {"_id": user_id},
        {
            "$set": {
                **{f"notificationPreferences.{k}": v for k, v in preferences.items()},
                "digests": digests,
                "updatedAt": _now(),
            }
        },
        return_document=ReturnDocument.AFTER,
    )


def with_digest(mongo: Database, frequency: str, after_id: str | None, limit: int) -> Any:
    """One page of the settings of users whose preferences name a `frequency` digest."""
    query: dict[str, Any] = {"digests": frequency}
    if after_id is not None:
        query["_id"] = {"$gt": after_id}
    return mongo[COLLECTION].find(query).sort("_id", 1).limit(limit)
