"""The only code that touches achievements and study_days (besides the registry-driven erasure,
export and reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from oneenglish.achievements.models import COLLECTION, STUDY_DAYS
from oneenglish.db.mongo import Database, MongoDocument


async def insert_once(mongo: Database, document: dict[str, Any]) -> bool:
    """Insert by `_id`; False if it was already there (awarded before, or by a racing event)."""
    try:
        await mongo[COLLECTION].insert_one(document)
    except DuplicateKeyError:
        return False
    return True


async def get(mongo: Database, achievement_id: str) -> MongoDocument | None:
    return await mongo[COLLECTION].find_one({"_id": achievement_id})


async def page(
    mongo: Database, user_id: str, after: dict[str, Any] | None, limit: int
) -> list[MongoDocument]:
    query: dict[str, Any] = {"userId": user_id}
    if after:
        query.update(after)
    cursor = mongo[COLLECTION].find(query).sort([("earnedAt", -1), ("_id", -1)]).limit(limit)
    return await cursor.to_list()


async def total_points(mongo: Database, user_id: str) -> int:
    cursor = await mongo[COLLECTION].aggregate(
        [{"$match": {"userId": user_id}}, {"$group": {"_id": None, "points": {"$sum": "$points"}}}]
    )
    rows = await cursor.to_list()
    return int(rows[0]["points"]) if rows else 0


async def top_by_points(
    mongo: Database, course_id: str | None, limit: int
) -> list[tuple[str, int]]:
    """(userId, points), highest first: $group/$sum, then sorted and cut in the pipeline."""
    match: dict[str, Any] = {"courseId": course_id} if course_id else {}
    cursor = await mongo[COLLECTION].aggregate(
        [
            {"$match": match},
            {"$group": {"_id": "$userId", "points": {"$sum": "$points"}}},
            {"$sort": {"points": -1, "_id": 1}},
            {"$limit": limit},
        ]
    )
    return [(doc["_id"], int(doc["points"])) async for doc in cursor]


async def add_study_day(mongo: Database, user_id: str, day: str, at: datetime) -> None:
    with contextlib.suppress(DuplicateKeyError):  # already studied that day
        await mongo[STUDY_DAYS].insert_one(
            {"_id": f"{user_id}:{day}", "userId": user_id, "day": day, "firstAt": at}
        )


async def study_days_since(mongo: Database, user_id: str, first_day: str) -> set[str]:
    cursor = mongo[STUDY_DAYS].find({"userId": user_id, "day": {"$gte": first_day}}, {"day": 1})
    return {doc["day"] async for doc in cursor}
