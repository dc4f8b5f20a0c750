"""Chat as PostgreSQL decides it: who may talk to whom (users, courses, enrollments, blocks),
and the reads that need that answer (a course room's page, my conversations with their unread
counts). The messages themselves live in MongoDB.

- A direct message goes to an active user other than yourself whom you meet somewhere: you
  learn in one course, one of you teaches a course the other learns in, or you already have a
  conversation; staff (`users:read`) may message anyone. A block, either way, stops it. Every
  refusal is the same 404 as for an id that names nobody, so ids cannot be probed. 422 to
  yourself.
- A course room is for the course's enrolled learners, its teacher and administrators; anyone
  else gets a 403 (a 404 if they cannot even see the course)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.blocks import service as blocks
from oneenglish.chat import service as chat
from oneenglish.chat.schemas import ConversationOut, MessagePage
from oneenglish.core.cursors import CursorCodec
from oneenglish.core.errors import Forbidden, InvalidInput, NotFound
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.users import service as users


async def ensure_may_message(
    db: AsyncSession, mongo: Database, principal: Principal, peer_id: uuid.UUID
) -> None:
    if peer_id == principal.id:
        raise InvalidInput("You cannot send a message to yourself")
    nobody = NotFound(f"No user {peer_id}")
    if not await users.is_active_user(db, peer_id):
        raise nobody
    if await blocks.either_blocked(db, principal.id, peer_id):
        raise nobody
    if principal.can("users", "read") or await enrollments.share_a_course(
        db, principal.id, peer_id
    ):
        return
    if not await chat.have_conversation(mongo, principal.id, peer_id):
        raise nobody


async def ensure_room_member(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> None:
    course = await courses.get_visible(db, principal, course_id)
    if courses.can_manage(principal, course) or principal.can("courses", "read"):
        return
    if not await enrollments.is_enrolled(db, principal.id, course_id):
        raise Forbidden("Only the course's learners and teachers are in its room")


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
    return await with_senders(db, await chat.room_page(mongo, codec, course_id, cursor, limit))


async def direct_page(
    db: AsyncSession,
    mongo: Database,
    codec: CursorCodec,
    principal: Principal,
    peer_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> MessagePage:
    page = await chat.direct_page(mongo, codec, principal.id, peer_id, cursor, limit)
    return await with_senders(db, page)


async def with_senders(db: AsyncSession, page: MessagePage) -> MessagePage:
    """Each message with its sender's public card (one query for the page)."""
    senders = await users.cards(db, (m.sender_id for m in page.items))
    items = [m.model_copy(update={"sender": senders.get(m.sender_id)}) for m in page.items]
    return page.model_copy(update={"items": items})


async def my_conversations(
    db: AsyncSession, mongo: Database, principal: Principal
) -> list[ConversationOut]:
    enrolled = await enrollments.course_ids_of(db, principal.id)
    teaching = await courses.ids_created_by(db, principal.id)
    rooms = list(dict.fromkeys([*enrolled, *teaching]))
    found = await chat.conversations(mongo, principal.id, rooms)
    peers = await users.cards(db, (c.peer_id for c in found))
    return [c.model_copy(update={"peer": peers.get(c.peer_id)}) if c.peer_id else c for c in found]
