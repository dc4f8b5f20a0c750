"""Bulk writes the loaders share, shaped by FerretDB 1.24's limits (../shared/ferretdb.md).

- Inserts go in batches, a few at once, produced lazily: two million chat messages never sit in
  memory together.
- A `delete_many` passes the ids it removes to PostgreSQL as parameters, at most 65 535, and
  every filter scans the collection: wide deletes are split by leading `_id` digit (a few scans),
  and a collection that holds nothing but a data set is dropped instead (no scan at all) and
  its declared indexes created again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence

from bench.databases import Databases
from oneenglish.db.mongo import MongoDocument, registered_indexes

MONGO_BATCH = 1000
MONGO_BATCHES_AT_ONCE = 4


async def insert_all(db: Databases, collection: str, documents: Iterable[MongoDocument]) -> int:
    """Insert every document (each with its `_id`), in batches; returns how many."""
    limit = asyncio.Semaphore(MONGO_BATCHES_AT_ONCE)
    tasks: list[asyncio.Task[None]] = []
    inserted = 0

    async def insert(batch: list[MongoDocument]) -> None:
        try:
            await db.mongo[collection].insert_many(batch, ordered=False)
        finally:
            limit.release()

    iterator = iter(documents)
    while batch := list(itertools.islice(iterator, MONGO_BATCH)):
        await limit.acquire()  # back-pressure: the next batch is built when one has finished
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            limit.release()
            await asyncio.gather(*tasks, return_exceptions=True)
            failed[0].result()
        tasks.append(asyncio.create_task(insert(batch)))
        inserted += len(batch)
    await asyncio.gather(*tasks)
    return inserted


async def delete_all_but(db: Databases, collection: str, kept: Sequence[str]) -> None:
    """Delete the documents whose `_id` (a UUID string, or one that starts with one) is not kept.

    FerretDB matches `$in`/`$nin` against a long list slowly, so one "all but the kept" delete
    would be best, but it removes at most 65 535 documents: sixteen deletes, one per leading hex
    digit, stay under that up to a million documents."""
    for digit in "0123456789abcdef":
        upper = chr(ord(digit) + 1)
        await db.mongo[collection].delete_many(
            {"_id": {"$gte": digit, "$lt": upper, "$nin": list(kept)}}
        )


async def recreate(db: Databases, *collections: str) -> None:
    """Drop collections that hold nothing but a data set, then create their declared indexes
    again (as `oneenglish migrate` does; the modules declaring them must be imported)."""
    for collection in collections:
        await db.mongo.drop_collection(collection)
    for spec in registered_indexes():
        if spec.collection in collections:
            await db.mongo[spec.collection].create_indexes([spec.model()])
