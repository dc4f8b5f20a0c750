"""The only code that touches notifications (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.notifications.models import COLLECTION


async def insert_once(mongo: Database, document: dict[str, Any]) -> bool:
    try:
        await mongo[COLLECTION].insert_one(document)
    except DuplicateKeyError:
        return False
    return True


async def page(
    mongo: Database, user_id: str, unread_only: bool, after: dict[str, Any] | None, limit: int
) -> list[MongoDocument]:
    query: dict[str, Any] = {"userId": user_id}
    if unread_only:
        query["isRead"] = False
    if after:
        query.update(after)
    cursor = mongo[COLLECTION].find(query).sort([("createdAt", -1), ("_id", -1)]).limit(limit)
    return await cursor.to_list()


async def mark_read(
    mongo: Database, user_id: str, notification_id: str, at: datetime
) -> MongoDocument | None:
    """Only the owner's notification matches: another user's id is simply not found."""
    found = await mongo[COLLECTION].find_one_and_update(
        {"_id": notification_id, "userId": user_id, "isRead": False},
        {"$set": {"isRead": True, "readAt": at}},
        return_document=ReturnDocument.AFTER,
    )
    if found is not None:
        return found
    return await mongo[COLLECTION].find_one({"_id": notification_id, "userId": user_id})


async def mark_all_read(mongo: Database, user_id: str, at: datetime) -> int:
    result = await mongo[COLLECTION].update_many(
        {"userId": user_id, "isRead": False}, {"$set": {"isRead": True, "readAt": at}}
    )
    return result.modified_count


async def count_unread(mongo: Database, user_id: str) -> int:
    return await mongo[COLLECTION].count_documents({"userId": user_id, "isRead": False})


async def caused_by(mongo: Database, user_id: str, cause: str) -> list[MongoDocument]:
    cursor = mongo[COLLECTION].find({"userId": user_id, "causeId": cause})
    return await cursor.to_list()


async def unread_between(
    mongo: Database,
    user_id: str,
    types: list[str],
    since: datetime,
    until: datetime,
    limit: int,
) -> tuple[list[MongoDocument], int]:
    """The newest `limit` unread notifications of these types in (since, until], and how many
    there are in all."""
    query: dict[str, Any] = {
        "userId": user_id,
        "isRead": False,
        "type": {"$in": types},
        "createdAt": {"$gt": since, "$lte": until},
    }
    collection = mongo[COLLECTION]
    cursor = collection.find(query).sort([("createdAt", -1), ("_id", -1)]).limit(limit)
    documents = await cursor.to_list()
    total = len(documents) if len(documents) < limit else await collection.count_documents(query)
    return documents, total
