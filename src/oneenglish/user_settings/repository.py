"""The only code that touches user_settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.user_settings.models import COLLECTION


async def create_if_missing(db: Database, user_id: str, defaults: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    await db[COLLECTION].update_one(
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


async def get(db: Database, user_id: str) -> MongoDocument | None:
    return await db[COLLECTION].find_one({"_id": user_id})


async def merge(
    db: Database, user_id: str, values: dict[str, Any], removed: Sequence[str]
) -> MongoDocument | None:
    update: dict[str, Any] = {
        "$set": {**{f"settings.{k}": v for k, v in values.items()}, "updatedAt": datetime.now(UTC)}
    }
    if removed:
        update["$unset"] = {f"settings.{k}": "" for k in removed}
    return await db[COLLECTION].find_one_and_update(
        {"_id": user_id}, update, return_document=ReturnDocument.AFTER
    )


async def delete(db: Database, user_id: str) -> None:
    await db[COLLECTION].delete_one({"_id": user_id})


async def existing_ids(db: Database, user_ids: Sequence[str]) -> set[str]:
    cursor = db[COLLECTION].find({"_id": {"$in": list(user_ids)}}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}
