"""The only code that touches error_logs (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oneenglish.core.cursors import log_filter
from oneenglish.db.mongo import Database, MongoDocument, insert_many_once
from oneenglish.error_logs.models import COLLECTION

NEWEST_FIRST = [("timestamp", -1), ("_id", -1)]
# The list leaves the stack out: it is read one error at a time.
SUMMARY = {"stack": 0}


async def insert_many(mongo: Database, entries: list[MongoDocument]) -> None:
    await insert_many_once(mongo[COLLECTION], entries)


def list_query(
    *,
    error_type: str | None,
    user_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, str] | None,
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Filter and sort of one page (tests explain every shape against the indexes)."""
    equals = {"userId": user_id, "errorType": error_type}
    return log_filter(equals, start=start, end=end, after=after), NEWEST_FIRST


async def find_page(
    mongo: Database,
    *,
    error_type: str | None,
    user_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MongoDocument]:
    query, sort = list_query(
        error_type=error_type, user_id=user_id, start=start, end=end, after=after
    )
    return await mongo[COLLECTION].find(query, SUMMARY).sort(sort).limit(limit).to_list()


async def get(mongo: Database, error_id: str) -> MongoDocument | None:
    return await mongo[COLLECTION].find_one({"_id": error_id})


async def delete_older_than(mongo: Database, cutoff: datetime) -> int:
    result = await mongo[COLLECTION].delete_many({"timestamp": {"$lt": cutoff}})
    return result.deleted_count
