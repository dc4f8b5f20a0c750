"""The only code that touches chat_messages, chat_conversations and chat_reads (besides the
registry-driven erasure, export and reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from oneenglish.chat.models import CONVERSATIONS, MESSAGES, READS
from oneenglish.db.mongo import Database, MongoDocument


async def insert(
    mongo: Database, document: dict[str, Any], message_id: ObjectId | None = None
) -> MongoDocument:
    """Insert a message; with a given id, one already stored under it (a retry) is returned."""
    document = {"_id": message_id or ObjectId(), **document}
    try:
        await mongo[MESSAGES].insert_one(document)
    except DuplicateKeyError:
        if message_id is None:
            raise
        existing = await mongo[MESSAGES].find_one({"_id": message_id})
        if existing is None:
            raise
        return existing
    return document


async def page(
    mongo: Database, conversation_id: str, after: dict[str, Any] | None, limit: int
) -> list[MongoDocument]:
    query: dict[str, Any] = {"conversationId": conversation_id}
    if after:
        query.update(after)
    cursor = mongo[MESSAGES].find(query).sort([("createdAt", -1), ("_id", -1)]).limit(limit)
    return await cursor.to_list()


async def get(mongo: Database, message_id: ObjectId) -> MongoDocument | None:
    return await mongo[MESSAGES].find_one({"_id": message_id})


async def update_own(
    mongo: Database, message_id: ObjectId, sender_id: str, changes: dict[str, Any]
) -> MongoDocument | None:
    return await mongo[MESSAGES].find_one_and_update(
        {"_id": message_id, "senderId": sender_id, "deletedAt": None},
        {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )


async def touch_conversations(
    mongo: Database, conversation_id: str, participants: Sequence[tuple[str, str]], at: datetime
) -> None:
    """Each participant's entry for a direct conversation: created once, time moved forward."""
    await asyncio.gather(
        *(
            mongo[CONVERSATIONS].update_one(
                {"_id": f"{user}:{conversation_id}"},
                {
                    "$setOnInsert": {
                        "userId": user,
                        "peerId": peer,
                        "conversationId": conversation_id,
                    },
                    "$max": {"lastMessageAt": at},
                },
                upsert=True,
            )
            for user, peer in participants
        )
    )


async def conversation_exists(mongo: Database, user_id: str, conversation_id: str) -> bool:
    found = await mongo[CONVERSATIONS].find_one({"_id": f"{user_id}:{conversation_id}"}, {"_id": 1})
    return found is not None


async def direct_conversations(mongo: Database, user_id: str, limit: int) -> list[MongoDocument]:
    cursor = (
        mongo[CONVERSATIONS]
        .find({"userId": user_id})
        .sort([("lastMessageAt", -1), ("_id", -1)])
        .limit(limit)
    )
    return await cursor.to_list()


async def unread_direct_by_conversation(mongo: Database, user_id: str) -> dict[str, int]:
    cursor = await mongo[MESSAGES].aggregate(
        [
            {"$match": {"receiverId": user_id, "readAt": None, "deletedAt": None}},
            {"$group": {"_id": "$conversationId", "unread": {"$sum": 1}}},
        ]
    )
    return {doc["_id"]: int(doc["unread"]) async for doc in cursor}


async def mark_direct_read(mongo: Database, conversation_id: str, reader: str, at: datetime) -> int:
    result = await mongo[MESSAGES].update_many(
        {"conversationId": conversation_id, "receiverId": reader, "readAt": None},
        {"$set": {"readAt": at}},
    )
    return result.modified_count


async def last_read(mongo: Database, user_id: str, conversation_id: str) -> datetime | None:
    document = await mongo[READS].find_one({"_id": f"{user_id}:{conversation_id}"})
    return document["lastReadAt"] if document else None


async def mark_room_read(mongo: Database, user_id: str, conversation_id: str, at: datetime) -> None:
    await mongo[READS].update_one(
        {"_id": f"{user_id}:{conversation_id}"},
        {
            "$setOnInsert": {"userId": user_id, "conversationId": conversation_id},
            "$max": {"lastReadAt": at},
        },
        upsert=True,
    )


async def count_room_unread(
    mongo: Database, conversation_id: str, reader: str, since: datetime | None
) -> int:
    query: dict[str, Any] = {
        "conversationId": conversation_id,
        "senderId": {"$ne": reader},
        "deletedAt": None,
    }
    if since is not None:
        query["createdAt"] = {"$gt": since}
    return await mongo[MESSAGES].count_documents(query)


async def latest_in(mongo: Database, conversation_id: str) -> datetime | None:
    document = await mongo[MESSAGES].find_one(
        {"conversationId": conversation_id}, sort=[("createdAt", -1), ("_id", -1)]
    )
    return document["createdAt"] if document else None
