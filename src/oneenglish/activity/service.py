"""Activity: what authenticated users did, one entry per request.

Entries are recorded after the response, put in a bounded in-process queue and written in
batches by a background task (core.background.BatchWriter): recording never waits for MongoDB,
and a full queue drops entries (counted and logged) instead of slowing requests down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from oneenglish.activity import repository
from oneenglish.activity.schemas import ActivityOut
from oneenglish.core.background import BatchWriter
from oneenglish.core.cursors import CursorCodec, CursorPage, next_page
from oneenglish.core.documents import storable_text
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db.mongo import Database, MongoDocument, is_unavailable
from oneenglish.settings import Settings

MAX_VALUE_LENGTH = 200
# How long entries of an erased user are refused: longer than any entry can wait in the queue.
log = get_logger("oneenglish.activity")

FORGET_SECONDS = 600.0


class ActivityLog:
    def __init__(self, settings: Settings) -> None:
        self.writer: BatchWriter[MongoDocument] = BatchWriter(
            "user_activities",
            capacity=settings.activity_queue_size,
            batch_size=settings.log_write_batch_size,
            linger=settings.log_write_linger_seconds,
            retry_if=is_unavailable,
        )
        self._forgotten: dict[str, float] = {}
        self._db: Database | None = None

    def record(
        self,
        user_id: uuid.UUID,
        action: str,
        resource: Mapping[str, Any],
        metadata: dict[str, Any],
        ip: str | None,
    ) -> bool:
        """Queue an entry; never waits. False if it was not kept (queue full, user erased)."""
        uid = str(user_id)
        if self._is_forgotten(uid):
            return False
        return self.writer.offer(
            {
                # A fixed _id makes a retried batch idempotent.
                "_id": uuid.uuid4().hex,
                "userId": uid,
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

    async def forget(self, user_id: uuid.UUID) -> None:
        """The user was just erased: their entries still queued, or recorded by requests that
        are finishing, must not be written after the erasure deleted the others. A batch the
        writer already held may have been checked before this and written after the erasure's
        delete: once it is done, what it wrote is deleted too."""
        now = time.monotonic()
        self._forgotten = {u: t for u, t in self._forgotten.items() if t > now}
        uid = str(user_id)
        self._forgotten[uid] = now + FORGET_SECONDS
        if self._db is None:
            return
        await self.writer.flush()
        try:
            await repository.delete_for_user(self._db, uid)
        except PyMongoError as exc:  # the erasure itself is done; this is a leftover
            if not is_unavailable(exc):
                raise
            log.warning("activity of an erased user not re-checked", error=str(exc))

    def start(self, db: Database) -> None:
        self._db = db

        async def write(entries: list[MongoDocument]) -> None:
            kept = [e for e in entries if not self._is_forgotten(e["userId"])]
            if kept:
                await repository.insert_many(db, kept)

        self.writer.start(write)

    async def flush(self) -> None:
        await self.writer.flush()

    async def stop(self) -> None:
        await self.writer.stop()

    @property
    def dropped(self) -> int:
        return self.writer.dropped

    def _is_forgotten(self, user_id: str) -> bool:
        until = self._forgotten.get(user_id)
        return until is not None and until > time.monotonic()


def _codec(settings: Settings) -> CursorCodec:
    return CursorCodec(settings.signing_key.encode(), "user_activities")


async def list_activity(
    db: Database,
    settings: Settings,
    principal: Principal,
    user_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> CursorPage[ActivityOut]:
    ensure_self_or_permitted(principal, user_id, "activity", "read")
    codec = _codec(settings)
    after = codec.decode(cursor) if cursor else None
    documents = await repository.find_page(db, str(user_id), after, limit + 1)
    page, next_cursor = next_page(documents, limit, codec, lambda d: (d["timestamp"], d["_id"]))
    return CursorPage(items=[_out(d) for d in page], next_cursor=next_cursor)


async def purge_older_than(db: Database, days: int, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return await repository.delete_older_than(db, cutoff)


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
