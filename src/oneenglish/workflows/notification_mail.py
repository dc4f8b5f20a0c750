"""Notifications pushed to the user's sockets as they happen (realtime/), and mailed to users
whose preference for their type is `email`.

The notification is in MongoDB; its mail is an outbox entry in PostgreSQL (mail/service.py),
enqueued in the transaction that completes what made the notification: a dispatched event's
saga (dispatch_event.py) or a direct message's request (chat.py). That transaction commits
once, so each notification is mailed once; the relay sends it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.mail import service as mail
from oneenglish.notifications import service as notifications
from oneenglish.realtime import service as realtime
from oneenglish.realtime.service import Stream
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.users import service as users


async def mail_at_once(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    user_id: uuid.UUID,
    made: list[MongoDocument],
    channels: user_settings.Channels | None = None,
) -> int:
    """Mail those of the notifications `made` whose type the user has mailed at once; returns
    how many (one settings read, none if the caller read the user's `channels` already)."""
    if channels is None:
        channels = await user_settings.channels_of(mongo, str(user_id))
    mailed = channels.mailed_at_once()
    if not mailed:
        return 0
    documents = [d for d in made if d.get("type") in mailed]
    if not documents:
        return 0
    user = await users.find_user(db, user_id)
    if user is None or not user.is_active or user.erased_at is not None:
        return 0
    name = users.display_name(user)
    for document in documents:
        mail.send(
            db,
            "notification",
            user_id=user.id,
            to_address=user.email,
            to_name=name,
            context={"title": document["title"], "message": document["message"]},
            unsubscribe=[document["type"]],
        )
    return len(documents)


async def push_notifications(
    db: AsyncSession,
    mongo: Database,
    user_id: uuid.UUID,
    documents: list[MongoDocument],
    *,
    wait: bool = True,
) -> None:
    """Each new notification to the user's sockets, with the unread count it makes; an
    achievement's also as an award. `wait`: see realtime/service.py:publish."""
    if not documents:
        return
    unread = await notifications.unread_count(mongo, user_id)
    stream = Stream.of_user(user_id)
    for document in documents:
        out = notifications.to_out(document)
        data = {"notification": out.model_dump(mode="json"), "unread_count": unread}
        await realtime.publish(db, stream, realtime.NOTIFICATION_CREATED, data, wait=wait)
        if out.type == notifications.ACHIEVEMENT_EARNED:
            await realtime.publish(db, stream, realtime.ACHIEVEMENT_AWARDED, data, wait=wait)
