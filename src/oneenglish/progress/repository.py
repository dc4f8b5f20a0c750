"""The only code that touches lesson_progress (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.progress.models import COLLECTION, progress_key


def _identity(
    key: str, user_id: str, lesson_id: str, course_id: str, enrollment_id: str
) -> dict[str, Any]:
    return {
        "userId": user_id,
        "lessonId": lesson_id,
        "courseId": course_id,
        "enrollmentId": enrollment_id,
        "_id": key,
    }


async def apply_progress(
    mongo: Database,
    *,
    key: str,
    user_id: str,
    lesson_id: str,
    course_id: str,
    enrollment_id: str,
    steps: Sequence[str],
    time_spent_total: int,
    completed_at: datetime | None,
    at: datetime,
) -> None:
    """Idempotent and order-free: a set union, monotonic maxima and a first-completion minimum."""
    identity = _identity(key, user_id, lesson_id, course_id, enrollment_id)
    update: dict[str, Any] = {
        "$setOnInsert": {
            **{k: v for k, v in identity.items() if k != "_id"},
            "notes": "",
            "quizAttempts": 0,
            "quizPercentSum": 0.0,
            "quizResults": [],
            "attemptIds": [],
            "createdAt": at,
        },
        "$max": {"timeSpent": time_spent_total, "lastActivityAt": at, "updatedAt": at},
    }
    if steps:
        update["$addToSet"] = {"completedSteps": {"$each": list(steps)}}
    else:
        update["$setOnInsert"]["completedSteps"] = []
    if completed_at is not None:
        update["$min"] = {"completedAt": completed_at}
    try:
        await mongo[COLLECTION].update_one({"_id": key}, update, upsert=True)
    except DuplicateKeyError:
        # Two upserts of a new document raced and the other inserted it (FerretDB does not
        # retry that itself, MongoDB only sometimes): now it exists, so this is an update.
        await mongo[COLLECTION].update_one({"_id": key}, update, upsert=True)


async def set_notes_if_newer(mongo: Database, key: str, notes: str, at: datetime) -> None:
    """Notes replace older notes only: a replayed older update never overwrites a newer one."""
    await mongo[COLLECTION].update_one(
        {"_id": key, "$or": [{"notesAt": {"$exists": False}}, {"notesAt": {"$lte": at}}]},
        {"$set": {"notes": notes, "notesAt": at}},
    )


async def add_quiz_attempt(
    mongo: Database,
    *,
    key: str,
    user_id: str,
    lesson_id: str,
    course_id: str,
    enrollment_id: str,
    attempt: dict[str, Any],
    at: datetime,
) -> bool:
    """Push the attempt unless its id is already there; False when it was (a replay)."""
    identity = _identity(key, user_id, lesson_id, course_id, enrollment_id)
    try:
        await mongo[COLLECTION].update_one(
            {"_id": key, "attemptIds": {"$ne": attempt["attemptId"]}},
            {
                "$setOnInsert": {
                    **{k: v for k, v in identity.items() if k != "_id"},
                    "notes": "",
                    "completedSteps": [],
                    "timeSpent": 0,
                    "createdAt": at,
                },
                "$push": {"quizResults": attempt, "attemptIds": attempt["attemptId"]},
                "$inc": {"quizAttempts": 1, "quizPercentSum": attempt["percent"]},
                "$max": {"bestPercent": attempt["percent"], "lastActivityAt": at, "updatedAt": at},
            },
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the document exists and already holds this attempt
    return True


async def get(mongo: Database, user_id: str, lesson_id: str) -> MongoDocument | None:
    # The shard key's fields with the `_id`: one shard answers on a sharded cluster.
    return await mongo[COLLECTION].find_one(
        {"_id": progress_key(user_id, lesson_id), "userId": user_id, "lessonId": lesson_id}
    )


async def quiz_totals_by_course(mongo: Database, user_id: str) -> dict[str, tuple[int, float]]:
    """courseId -> (attempts, sum of percents), by $group/$sum (the accumulator FerretDB has).

    Two single-accumulator aggregations, run together: FerretDB 1.24 computes only the first
    accumulator of a $group and returns 0 for the others (FerretDB issue #4616). On MongoDB one
    $group with both sums would do; two give the same answer on both servers."""

    async def total(field: str) -> dict[str, float]:
        cursor = await mongo[COLLECTION].aggregate(
            [
                {"$match": {"userId": user_id}},
                {"$group": {"_id": "$courseId", "total": {"$sum": f"${field}"}}},
            ]
        )
        return {doc["_id"]: doc["total"] async for doc in cursor}

    attempts, percents = await asyncio.gather(total("quizAttempts"), total("quizPercentSum"))
    return {course: (int(n), float(percents.get(course, 0.0))) for course, n in attempts.items()}


async def delete_where(mongo: Database, field: str, value: str) -> None:
    await mongo[COLLECTION].delete_many({field: value})


async def distinct_values(mongo: Database, field: str) -> Sequence[Any]:
    return await mongo[COLLECTION].distinct(field)


async def delete_where_in(mongo: Database, field: str, values: Sequence[Any]) -> None:
    await mongo[COLLECTION].delete_many({field: {"$in": list(values)}})
