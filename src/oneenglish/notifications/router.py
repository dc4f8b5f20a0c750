from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.cursors import CursorCodec, CursorParam, LimitParam, codec_for
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.notifications import service
from oneenglish.notifications.schemas import (
    MarkedRead,
    NotificationOut,
    NotificationPage,
    UnreadCount,
)

router = ApiRouter(prefix="/api/me/notifications", tags=["notifications"])


async def _codec(settings: AppSettings) -> CursorCodec:
    return codec_for(settings.signing_key, "notifications")


@router.get("", summary="My notifications, newest first")
async def my_notifications(
    mongo: MongoDb,
    principal: CurrentUser,
    codec: Annotated[CursorCodec, Depends(_codec)],
    unread: Annotated[bool, Query(description="Only unread ones")] = False,
    cursor: CursorParam = None,
    limit: LimitParam = 20,
) -> NotificationPage:
    return await service.inbox(
        mongo, codec, principal.id, unread_only=unread, cursor=cursor, limit=limit
    )


@router.get("/unread-count", summary="How many are unread")
async def unread_count(mongo: MongoDb, principal: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(mongo, principal.id))


@router.post("/read-all", summary="Mark all read")
async def read_all(mongo: MongoDb, principal: CurrentUser) -> MarkedRead:
    return MarkedRead(marked=await service.mark_all_read(mongo, principal.id))


@router.post("/{notification_id}/read", summary="Mark one read (sets read_at)")
async def read_one(
    notification_id: Annotated[str, Path(max_length=200)],
    mongo: MongoDb,
    principal: CurrentUser,
) -> NotificationOut:
    return await service.mark_read(mongo, principal.id, notification_id)
