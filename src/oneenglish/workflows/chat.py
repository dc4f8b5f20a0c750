"""Chat across the databases: who may talk to whom is PostgreSQL's to say (users, courses,
enrollments); the messages, read state and the new-message notification live in MongoDB.

- Direct messages go to an existing, active user other than yourself (422 to yourself, 404 to
  anyone else).
- A course room is for the course's enrolled learners, its teacher and administrators; anyone
  else gets a 403 (a 404 if they cannot even see the course)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.chat import service as chat
from oneenglish.chat.schemas import ConversationOut, MessageIn, MessageOut, MessagePage
from oneenglish.core.cursors import CursorCodec
from oneenglish.core.errors import Forbidden, InvalidInput
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.notifications import service as notifications
from oneenglish.users import service as users

PREVIEW = 120


async def send_direct(
    db: AsyncSession, mongo: Database, principal: Principal, peer_id: uuid.UUID, body: MessageIn
) -> MessageOut:
    if peer_id == principal.id:
        raise InvalidInput("You cannot send a message to yourself")
    await users.require_active_user(db, peer_id)
    message = await chat.send_direct(mongo, principal.id, peer_id, body)
    preview = body.message[:PREVIEW] if body.message_type == "text" else f"[{body.message_type}]"
    await notifications.notify(
        mongo,
        f"message:{message.id}",
        str(peer_id),
        notifications.DIRECT_MESSAGE,
        f"New message from {principal.username}",
        preview,
        {"senderId": str(principal.id), "messageId": message.id},
    )
    return message


async def ensure_room_member(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> None:
    course = await courses.get_visible(db, principal, course_id)
    if courses.can_manage(principal, course) or principal.can("courses", "read"):
        return
    if not await enrollments.is_enrolled(db, principal.id, course_id):
        raise Forbidden("Only the course's learners and teachers are in its room")


async def send_to_room(
    db: AsyncSession, mongo: Database, principal: Principal, course_id: uuid.UUID, body: MessageIn
) -> MessageOut:
    await ensure_room_member(db, principal, course_id)
    return await chat.send_to_room(mongo, principal.id, course_id, body)


async def room_page(
    db: AsyncSession,
    mongo: Database,
    codec: CursorCodec,
    principal: Principal,
    course_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> MessagePage:
    await ensure_room_member(db, principal, course_id)
    return await chat.room_page(mongo, codec, course_id, cursor, limit)


async def mark_room_read(
    db: AsyncSession, mongo: Database, principal: Principal, course_id: uuid.UUID
) -> None:
    await ensure_room_member(db, principal, course_id)
    await chat.mark_room_read(mongo, principal.id, course_id)


async def my_conversations(
    db: AsyncSession, mongo: Database, principal: Principal
) -> list[ConversationOut]:
    enrolled = await enrollments.course_ids_of(db, principal.id)
    teaching = await courses.ids_created_by(db, principal.id)
    rooms = list(dict.fromkeys([*enrolled, *teaching]))
    return await chat.conversations(mongo, principal.id, rooms)
