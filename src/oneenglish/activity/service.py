"""Activity: what authenticated users did, one entry per request.

Entries are recorded after the response, put in a bounded in-process queue and written in
batches by a background task (core.background.BatchWriter): recording never waits for MongoDB,
and a full queue drops entries (counted and logged) instead of slowing requests down."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from oneenglish.activity import repository
from oneenglish.activity.schemas import ActivityOut
from oneenglish.core.background import BatchWriter, UserGuard
from oneenglish.core.cursors import CursorCodec, CursorPage, next_page
from oneenglish.core.documents import storable_text
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db import postgres
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.db.mongo import is_unavailable as mongo_unavailable
from oneenglish.settings import Settings

MAX_VALUE_LENGTH = 200
log = get_logger("oneenglish.activity")


def retryable(exc: BaseException) -> bool:
    """A batch is kept and written again while either database is unreachable."""
    return mongo_unavailable(exc) or postgres.is_outage(exc)


class ActivityLog:
    def __init__(self, settings: Settings) -> None:
        self.writer: BatchWriter[MongoDocument] = BatchWriter(
            "user_activities",
            capacity=settings.activity_queue_size,
            batch_size=settings.log_write_batch_size,
            linger=settings.log_write_linger_seconds,
            retry_if=retryable,
        )

    def record(
        self,
        user_id: uuid.UUID,
        action: str,
        resource: Mapping[str, Any],
        metadata: dict[str, Any],
        ip: str | None,
    ) -> bool:
        """Queue an entry; never waits. False if it was not kept (the queue was full)."""
        return self.writer.offer(
            {
                # A fixed _id makes a retried batch idempotent.
                "_id": uuid.uuid4().hex,
                "userId": str(user_id),
                "action": storable_text(action, MAX_VALUE_LENGTH),
                "resource": {
                    storable_text(str(k), MAX_VALUE_LENGTH): storable_text(str(v), MAX_VALUE_LENGTH)
                    for k, v in resource.items()
                },
                "metadata": metadata,
                "ipAddress": ip,
                "timestamp": datetime.now(UTC),
            }
        )

    def start(self, mongo: Database, guard: UserGuard) -> None:
        """Write batches to `db`; `guard` keeps the batch's users from being erased while it is
        written and names those already erased or being erased, whose entries are dropped (an
        entry queued, in any API process, by a request that overlapped the erasure)."""

        async def write(entries: list[MongoDocument]) -> None:
            async with guard(list({e["userId"] for e in entries})) as erased:
                kept = [e for e in entries if e["userId"] not in erased]
                if kept:
                    await repository.insert_many(mongo, kept)

        self.writer.start(write)

    async def flush(self) -> None:
        await self.writer.flush()

    async def stop(self) -> None:
        await self.writer.stop()

    @property
    def dropped(self) -> int:
        return self.writer.dropped


def _codec(settings: Settings) -> CursorCodec:
    return CursorCodec(settings.signing_key.encode(), "user_activities")


async def list_activity(
    mongo: Database,
    settings: Settings,
    principal: Principal,
    user_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> CursorPage[ActivityOut]:
    ensure_self_or_permitted(principal, user_id, "activity", "read")
    codec = _codec(settings)
    after = codec.decode(cursor) if cursor else None
    documents = await repository.find_page(mongo, str(user_id), after, limit + 1)
    page, next_cursor = next_page(documents, limit, codec, lambda d: (d["timestamp"], d["_id"]))
    return CursorPage(items=[_out(d) for d in page], next_cursor=next_cursor)


async def purge_older_than(mongo: Database, days: int, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return await repository.delete_older_than(mongo, cutoff)


def _out(document: MongoDocument) -> ActivityOut:
    return ActivityOut(
        id=document["_id"],
        user_id=document["userId"],
        action=document["action"],
        resource=document.get("resource", {}),
        metadata=document.get("metadata", {}),
        ip_address=document.get("ipAddress"),
        timestamp=document["timestamp"],
    )
