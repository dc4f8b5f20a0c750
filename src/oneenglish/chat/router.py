from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, status

from oneenglish.auth.dependencies import CurrentUser
from oneenglish.chat import service
from oneenglish.chat.schemas import (
    MAX_REQUEST_BYTES,
    Conversations,
    MessageEdit,
    MessageIn,
    MessageOut,
    MessagePage,
)
from oneenglish.core.cursors import CursorCodec, CursorParam, LimitParam, codec_for
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.idempotency.dependencies import IdempotencyKey
from oneenglish.views import chat as chat_views
from oneenglish.workflows import chat

router = ApiRouter(prefix="/api/chat", tags=["chat"])

# A message is at most 4 000 characters and 10 attachments' metadata: anything bigger is not
# a chat message (413 before it is even parsed; the limit is applied by core's
# InputGuardMiddleware to every path under /api/chat/).
MAX_BODY = MAX_REQUEST_BYTES


async def _codec(settings: AppSettings) -> CursorCodec:
    return codec_for(settings.signing_key, "chat")


Codec = Annotated[CursorCodec, Depends(_codec)]


@router.post(
    "/direct/{user_id}/messages",
    status_code=status.HTTP_201_CREATED,
    summary="Send a direct message (to someone you share a course or a conversation with)",
    responses={
        404: {"description": "No such user, or not one you may message"},
        422: {"description": "To yourself"},
        429: {"description": "Too many messages (Retry-After)"},
    },
)
async def send_direct(
    user_id: uuid.UUID,
    body: MessageIn,
    db: DbSession,
    mongo: MongoDb,
    settings: AppSettings,
    principal: CurrentUser,
    idempotent: IdempotencyKey,
) -> MessageOut:
    return await chat.send_direct(db, mongo, settings, principal, user_id, body, idempotent)


@router.get("/direct/{user_id}/messages", summary="My conversation with a user, newest first")
async def direct_messages(
    user_id: uuid.UUID,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    codec: Codec,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> MessagePage:
    return await chat_views.direct_page(db, mongo, codec, principal, user_id, cursor, limit)


@router.post(
    "/direct/{user_id}/read", status_code=status.HTTP_204_NO_CONTENT, summary="Mark it read"
)
async def read_direct(user_id: uuid.UUID, mongo: MongoDb, principal: CurrentUser) -> None:
    await service.mark_direct_read(mongo, principal.id, user_id)


@router.post(
    "/rooms/{course_id}/messages",
    status_code=status.HTTP_201_CREATED,
    summary="Post in a course's room (its learners and teachers)",
)
async def send_to_room(
    course_id: uuid.UUID,
    body: MessageIn,
    db: DbSession,
    mongo: MongoDb,
    settings: AppSettings,
    principal: CurrentUser,
    idempotent: IdempotencyKey,
) -> MessageOut:
    return await chat.send_to_room(db, mongo, settings, principal, course_id, body, idempotent)


@router.get("/rooms/{course_id}/messages", summary="A course room's messages, newest first")
async def room_messages(
    course_id: uuid.UUID,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    codec: Codec,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> MessagePage:
    return await chat_views.room_page(db, mongo, codec, principal, course_id, cursor, limit)


@router.post(
    "/rooms/{course_id}/read", status_code=status.HTTP_204_NO_CONTENT, summary="Mark it read"
)
async def read_room(
    course_id: uuid.UUID, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> None:
    await chat.mark_room_read(db, mongo, principal, course_id)


@router.patch("/messages/{message_id}", summary="Edit my message")
async def edit_message(
    message_id: str, body: MessageEdit, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> MessageOut:
    return await chat.edit_message(db, mongo, principal, message_id, body.message)


@router.delete(
    "/messages/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete my message (its text and attachments are erased; it keeps its place)",
)
async def delete_message(
    message_id: str, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> None:
    await chat.delete_message(db, mongo, principal, message_id)


@router.get("/conversations", summary="My conversations and rooms with unread counts")
async def conversations(db: DbSession, mongo: MongoDb, principal: CurrentUser) -> Conversations:
    return Conversations(conversations=await chat_views.my_conversations(db, mongo, principal))
