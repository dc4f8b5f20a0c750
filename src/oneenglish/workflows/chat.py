"""Chat writes, across the databases: who may write is PostgreSQL's to say (views/chat.py), the
messages, read state and the new-message notification are MongoDB's.

- Sending is rate-limited per sender (direct and room messages) and per recipient (direct):
  429 with Retry-After. Every write of a user's chat documents happens under a share lock on
  the users' rows (workflows/live_users.py), so an erasure removes it or it does not happen.
- With an `Idempotency-Key`, a message is stored under an id derived from the key: a retry,
  even after a crash, finds it instead of writing it twice.
- Someone else's message is a 403 to change if you can see it (you received it, or you are in
  its room), else a 404."""

from __future__ import annotations

import uuid

from bson import ObjectId
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts import service as accounts
from oneenglish.chat import service as chat
from oneenglish.chat.schemas import MessageIn, MessageOut
from oneenglish.core.errors import Forbidden, InvalidInput, NotFound
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.files import service as files
from oneenglish.idempotency import service as idempotency
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.limits import service as limits
from oneenglish.notifications import service as notifications
from oneenglish.realtime import service as realtime
from oneenglish.realtime.service import Stream
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.views.chat import ensure_may_message, ensure_room_member
from oneenglish.workflows.live_users import live_users
from oneenglish.workflows.notification_mail import mail_at_once, push_notifications

PREVIEW = 120
MINUTE = 60


async def send_direct(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    principal: Principal,
    peer_id: uuid.UUID,
    body: MessageIn,
    idempotent: IdempotentRequest | None = None,
) -> MessageOut:
    await idempotency.replay_if_known(db, idempotent)
    await accounts.ensure_verified(db, settings, principal.id, "chat")
    await ensure_may_message(db, mongo, principal, peer_id)
    per_sender = limits.Limit("message", settings.messages_per_sender_per_minute, MINUTE)
    per_recipient = limits.Limit(
        "message to one recipient", settings.messages_per_recipient_per_minute, MINUTE
    )
    await limits.consume(db, per_sender, f"sender:{principal.id}")
    await limits.consume(db, per_recipient, f"recipient:{peer_id}")
    body = await _with_files(mongo, principal, body, peerId=str(peer_id))
    # Both users' rows stay share-locked until the message and its notification are written:
    # an erasure of either waits for them, and then removes them (workflows/user_data.py).
    async with live_users(db, [principal.id, peer_id]):
        message = await chat.send_direct(
            mongo, principal.id, peer_id, body, _message_id(idempotent)
        )
        preview = (
            body.message[:PREVIEW] if body.message_type == "text" else f"[{body.message_type}]"
        )
        # Both people's streams, in one order, before publishing to either (realtime/).
        await realtime.take_turns(db, [Stream.of_user(principal.id), Stream.of_user(peer_id)])
        channels = await user_settings.channels_of(mongo, str(peer_id))
        if channels.of(notifications.DIRECT_MESSAGE) != "off":
            notification = {
                "type": notifications.DIRECT_MESSAGE,
                "title": f"New message from {principal.username}",
                "message": preview,
            }
            created = await notifications.notify(
                mongo,
                f"message:{message.id}",
                str(peer_id),
                notifications.DIRECT_MESSAGE,
                notification["title"],
                preview,
                {"senderId": str(principal.id), "messageId": message.id},
            )
            await mail_at_once(db, mongo, settings, peer_id, [notification], channels)
            if created:
                await push_notifications(db, mongo, peer_id, [created])
        for party in (principal.id, peer_id):
            await realtime.publish(db, Stream.of_user(party), realtime.MESSAGE_CREATED, message)
        await idempotency.remember(
            db, idempotent, status_code=201, body=message, user_id=principal.id
        )
    return message


async def _with_files(
    mongo: Database, principal: Principal, body: MessageIn, **conversation: str
) -> MessageIn:
    """Attachments by `file_id` filled in from the files themselves: each must be a chat
    attachment the sender uploaded for this conversation (422 otherwise)."""
    if not any(a.file_id for a in body.attachments):
        return body
    filled = []
    for attachment in body.attachments:
        if attachment.file_id is None:
            filled.append(attachment)
            continue
        stored = await files.owned(
            mongo, principal.id, str(attachment.file_id), "chat_attachment", **conversation
        )
        filled.append(
            attachment.model_copy(
                update={
                    "name": attachment.name or stored.filename,
                    "mime_type": stored.metadata["contentType"],
                    "size_bytes": stored.length,
                }
            )
        )
    resolved = body.model_copy(update={"attachments": filled})
    if not resolved.attachments_match_type():
        raise InvalidInput(
            f"{body.message_type} attachments must be {body.family}*", field="attachments"
        )
    return resolved


def _message_id(idempotent: IdempotentRequest | None) -> ObjectId | None:
    """The id a keyed message is stored under: the same for every retry with that key."""
    return ObjectId(idempotent.derived_bytes("chat-message", 12)) if idempotent else None


async def send_to_room(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    principal: Principal,
    course_id: uuid.UUID,
    body: MessageIn,
    idempotent: IdempotentRequest | None = None,
) -> MessageOut:
    await idempotency.replay_if_known(db, idempotent)
    await accounts.ensure_verified(db, settings, principal.id, "chat")
    await ensure_room_member(db, principal, course_id)
    per_sender = limits.Limit("message", settings.messages_per_sender_per_minute, MINUTE)
    await limits.consume(db, per_sender, f"sender:{principal.id}")
    body = await _with_files(mongo, principal, body, courseId=str(course_id))
    async with live_users(db, [principal.id]):
        message = await chat.send_to_room(
            mongo, principal.id, course_id, body, _message_id(idempotent)
        )
        await realtime.publish(db, Stream.of_room(course_id), realtime.MESSAGE_CREATED, message)
        await idempotency.remember(
            db, idempotent, status_code=201, body=message, user_id=principal.id
        )
    return message


async def _found_message(mongo: Database, message_id: str) -> dict[str, object]:
    document = await chat.find_message(mongo, message_id)
    if document is None:
        raise NotFound(f"No message {message_id}")
    return document


async def _refuse_change(
    db: AsyncSession, principal: Principal, document: dict[str, object]
) -> None:
    course_id = chat.room_of(document)
    sees_room = False
    if course_id is not None:
        try:
            await ensure_room_member(db, principal, course_id)
            sees_room = True
        except (Forbidden, NotFound):
            sees_room = False
    chat.refuse_change(document, principal.id, sees_room=sees_room)


async def edit_message(
    db: AsyncSession, mongo: Database, principal: Principal, message_id: str, text: str
) -> MessageOut:
    document = await _found_message(mongo, message_id)
    if document["senderId"] != str(principal.id):
        await _refuse_change(db, principal, document)
    edited = await chat.edit(mongo, principal.id, document, text)
    await realtime.take_turns(db, _streams_of(document))
    for stream in _streams_of(document):
        await realtime.publish(db, stream, realtime.MESSAGE_UPDATED, edited)
    return edited


async def delete_message(
    db: AsyncSession, mongo: Database, principal: Principal, message_id: str
) -> None:
    document = await _found_message(mongo, message_id)
    if document["senderId"] != str(principal.id):
        await _refuse_change(db, principal, document)
    await chat.soft_delete(mongo, principal.id, document)
    # Its uploaded attachments go with it (the files are the sender's).
    attachments = document.get("attachments")
    uploaded = [
        str(a["file_id"])
        for a in (attachments if isinstance(attachments, list) else [])
        if isinstance(a, dict) and a.get("file_id")
    ]
    await files.delete(mongo, uploaded)
    await realtime.take_turns(db, _streams_of(document))
    for stream in _streams_of(document):
        await realtime.publish(db, stream, realtime.MESSAGE_DELETED, {"id": message_id})


def _streams_of(document: MongoDocument) -> list[Stream]:
    """Who sees a message live: its room, or both people of its conversation."""
    course_id = chat.room_of(document)
    if course_id is not None:
        return [Stream.of_room(course_id)]
    return [Stream.of_user(uuid.UUID(str(document[field]))) for field in ("senderId", "receiverId")]


async def mark_room_read(
    db: AsyncSession, mongo: Database, principal: Principal, course_id: uuid.UUID
) -> None:
    await ensure_room_member(db, principal, course_id)
    async with live_users(db, [principal.id]):
        await chat.mark_room_read(mongo, principal.id, course_id)
