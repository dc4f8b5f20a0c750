"""The only code that touches user_activities (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oneenglish.activity.models import COLLECTION
from oneenglish.core.cursors import log_filter
from oneenglish.db.mongo import Database, MongoDocument, insert_many_once

NEWEST_FIRST = [("timestamp", -1), ("_id", -1)]


async def insert_many(mongo: Database, entries: list[MongoDocument]) -> None:
    await insert_many_once(mongo[COLLECTION], entries)


def list_query(
    user_id: str, after: tuple[datetime, str] | None
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Filter and sort of a user's activity page (tests explain it against the indexes)."""
    return log_filter({"userId": user_id}, after=after), NEWEST_FIRST


async def find_page(
    mongo: Database, user_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[MongoDocument]:
    query, sort = list_query(user_id, after)
    return await mongo[COLLECTION].find(query).sort(sort).limit(limit).to_list()


async def delete_for_user(mongo: Database, user_id: str) -> int:
    result = await mongo[COLLECTION].delete_many({"userId": user_id})
    return result.deleted_count


async def delete_older_than(mongo: Database, cutoff: datetime) -> int:
    result = await mongo[COLLECTION].delete_many({"timestamp": {"$lt": cutoff}})
    return result.deleted_count
