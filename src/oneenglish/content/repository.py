"""The only code that touches lesson_contents (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from oneenglish.content.models import COLLECTION
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.db.sharding import read_mostly


async def replace(
    mongo: Database, lesson_id: str, course_id: str, content: dict[str, Any]
) -> MongoDocument:
    """Idempotent: the whole document is replaced by key. `version` counts replacements and
    is informational (FerretDB applies concurrent replacements one after the other, last wins)."""
    previous = await mongo[COLLECTION].find_one({"_id": lesson_id}, {"version": 1})
    document = {
        "_id": lesson_id,
        "lessonId": lesson_id,
        "courseId": course_id,
        **content,
        "version": (previous or {}).get("version", 0) + 1,
        "updatedAt": datetime.now(UTC),
    }
    await mongo[COLLECTION].replace_one({"_id": lesson_id}, document, upsert=True)
    return document


async def get(mongo: Database, lesson_id: str) -> MongoDocument | None:
    """A lesson's content, as learners read it: read-mostly, so possibly from a secondary
    (MONGODB_READ_MOSTLY_PREFERENCE; its edit is read back from the primary by `replace`)."""
    return await read_mostly(mongo, COLLECTION).find_one({"_id": lesson_id})


async def exercises_of(mongo: Database, lesson_ids: Sequence[str]) -> list[MongoDocument]:
    """The exercises of several lessons: a point read by `_id` each, concurrently. An `$in`
    would be one round trip on MongoDB but is a scan of every lesson's content on FerretDB
    1.24 (6 s on the bench's 4,000 lessons), where only `_id` equality is served by an index."""
    found = await asyncio.gather(
        *(mongo[COLLECTION].find_one({"_id": i}, {"exercises": 1}) for i in lesson_ids)
    )
    return [document for document in found if document is not None]


async def delete(mongo: Database, lesson_id: str) -> None:
    await mongo[COLLECTION].delete_one({"_id": lesson_id})


async def delete_of_course(mongo: Database, course_id: str) -> None:
    await mongo[COLLECTION].delete_many({"courseId": course_id})


async def distinct_values(mongo: Database, field: str) -> Sequence[Any]:
    return await mongo[COLLECTION].distinct(field)


async def delete_where_in(mongo: Database, field: str, values: Sequence[Any]) -> None:
    await mongo[COLLECTION].delete_many({field: {"$in": list(values)}})
