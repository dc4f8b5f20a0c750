"""Notifications mailed as they happen, to users whose preference for their type is `email`.

The notification is in MongoDB; its mail is an outbox entry in PostgreSQL (mail/service.py),
enqueued in the transaction that completes what made the notification: a dispatched event's
saga (dispatch_event.py) or a direct message's request (chat.py). That transaction commits
once, so each notification is mailed once; the relay sends it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.mail import service as mail
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.users import service as users


async def mail_at_once(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    user_id: uuid.UUID,
    notifications: Callable[[], Awaitable[list[MongoDocument]]],
    channels: user_settings.Channels | None = None,
) -> int:
    """Mail those of `notifications()` whose type the user has mailed at once; returns how
    many. The notifications are read only if some type is (one settings read otherwise,
    none if the caller read the user's `channels` already)."""
    if channels is None:
        channels = await user_settings.channels_of(mongo, str(user_id))
    mailed = channels.mailed_at_once()
    if not mailed:
        return 0
    documents = [d for d in await notifications() if d.get("type") in mailed]
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
