"""Notifications: created by the system when something happens to a user, read by that user."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from oneenglish.core import clock
from oneenglish.core.cursors import CursorCodec, older_than
from oneenglish.core.errors import NotFound
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.notifications import repository
from oneenglish.notifications.schemas import NotificationOut, NotificationPage

ENROLLED = "enrolled"
LESSON_COMPLETED = "lesson_completed"
COURSE_COMPLETED = "course_completed"
ACHIEVEMENT_EARNED = "achievement_earned"
DIRECT_MESSAGE = "direct_message"


async def notify(
    mongo: Database,
    notification_id: str,
    user_id: str,
    kind: str,
    title: str,
    message: str,
    data: dict[str, Any],
    *,
    at: datetime | None = None,
    cause: str | None = None,
) -> MongoDocument | None:
    """Create a notification once: `notification_id` names its cause, so a replay is a no-op.

    `at` is when its cause happened: a subscriber that runs late (a retried saga) files the
    notification where it belongs in the inbox, not above what happened after it. `cause`
    (an event id) lets whoever mails it find every notification one event made. Returns the
    new document, None if it existed."""
    document: MongoDocument = {
        "_id": notification_id,
        "userId": user_id,
        "type": kind,
        "title": title,
        "message": message,
        "data": data,
        "isRead": False,
        "readAt": None,
        "createdAt": at or clock.now(),
        **({"causeId": cause} if cause else {}),
    }
    return document if await repository.insert_once(mongo, document) else None


async def caused_by(mongo: Database, user_id: str, cause: str) -> list[MongoDocument]:
    return await repository.caused_by(mongo, user_id, cause)


async def unread_between(
    mongo: Database, user_id: str, types: list[str], since: datetime, until: datetime, limit: int
) -> tuple[list[MongoDocument], int]:
    return await repository.unread_between(mongo, user_id, types, since, until, limit)


async def inbox(
    mongo: Database,
    codec: CursorCodec,
    user_id: uuid.UUID,
    *,
    unread_only: bool,
    cursor: str | None,
    limit: int,
) -> NotificationPage:
    after = None
    if cursor:
        timestamp, last_id = codec.decode(cursor)
        after = older_than(timestamp, last_id)
    documents = await repository.page(mongo, str(user_id), unread_only, after, limit + 1)
    more = len(documents) > limit
    documents = documents[:limit]
    next_cursor = codec.encode(documents[-1]["createdAt"], documents[-1]["_id"]) if more else None
    return NotificationPage(items=[to_out(d) for d in documents], next_cursor=next_cursor)


async def mark_read(mongo: Database, user_id: uuid.UUID, notification_id: str) -> NotificationOut:
    document = await repository.mark_read(mongo, str(user_id), notification_id, datetime.now(UTC))
    if document is None:
        raise NotFound(f"No notification {notification_id}")
    return to_out(document)


async def mark_all_read(mongo: Database, user_id: uuid.UUID) -> int:
    return await repository.mark_all_read(mongo, str(user_id), datetime.now(UTC))


async def unread_count(mongo: Database, user_id: uuid.UUID) -> int:
    return await repository.count_unread(mongo, str(user_id))


def to_out(document: MongoDocument) -> NotificationOut:
    return NotificationOut(
        id=str(document["_id"]),
        type=document["type"],
        title=document["title"],
        message=document["message"],
        data=document.get("data", {}),
        is_read=document["isRead"],
        read_at=document.get("readAt"),
        created_at=document["createdAt"],
    )
