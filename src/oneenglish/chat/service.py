"""Chat messages (MongoDB): sending, pages, edits, soft deletion, read state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from bson import ObjectId
from bson.errors import InvalidId

from oneenglish.chat import repository
from oneenglish.chat.models import direct_conversation, room_conversation
from oneenglish.chat.schemas import ConversationOut, MessageIn, MessageOut, MessagePage
from oneenglish.core import clock
from oneenglish.core.cursors import CursorCodec, older_than
from oneenglish.core.errors import BadRequest, Forbidden, InvalidInput, NotFound
from oneenglish.db.mongo import Database, MongoDocument


async def send_direct(
    mongo: Database,
    sender: uuid.UUID,
    receiver: uuid.UUID,
    body: MessageIn,
    message_id: ObjectId | None = None,
) -> MessageOut:
    """`message_id` (from an Idempotency-Key): a retry finds the message it stored before."""
    conversation = direct_conversation(str(sender), str(receiver))
    now = clock.now()
    document = await repository.insert(
        mongo,
        {
            **_content(body),
            "conversationId": conversation,
            "kind": "direct",
            "senderId": str(sender),
            "receiverId": str(receiver),
            "roomId": None,
            "createdAt": now,
            "editedAt": None,
            "deletedAt": None,
            "readAt": None,
        },
        message_id,
    )
    _ensure_same(document, sender, conversation, body)
    await repository.touch_conversations(
        mongo, conversation, [(str(sender), str(receiver)), (str(receiver), str(sender))], now
    )
    return to_out(document)


async def send_to_room(
    mongo: Database,
    sender: uuid.UUID,
    course_id: uuid.UUID,
    body: MessageIn,
    message_id: ObjectId | None = None,
) -> MessageOut:
    conversation = room_conversation(str(course_id))
    document = await repository.insert(
        mongo,
        {
            **_content(body),
            "conversationId": conversation,
            "kind": "room",
            "senderId": str(sender),
            "receiverId": None,
            "roomId": str(course_id),
            "createdAt": clock.now(),
            "editedAt": None,
            "deletedAt": None,
        },
        message_id,
    )
    _ensure_same(document, sender, conversation, body)
    return to_out(document)


def _ensure_same(
    document: MongoDocument, sender: uuid.UUID, conversation: str, body: MessageIn
) -> None:
    """A message found under an idempotency-derived id must be this request's message."""
    content = _content(body)
    if (
        document["senderId"] != str(sender)
        or document["conversationId"] != conversation
        or any(document.get(k) != v for k, v in content.items())
    ):
        raise InvalidInput(
            "This Idempotency-Key was used for another message; use a new key",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "used for another message"}],
        )


async def direct_page(
    mongo: Database,
    codec: CursorCodec,
    me: uuid.UUID,
    peer: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> MessagePage:
    # The conversation id is built from the caller's own id: no one reads another's messages.
    return await _page(mongo, codec, direct_conversation(str(me), str(peer)), cursor, limit)


async def room_page(
    mongo: Database, codec: CursorCodec, course_id: uuid.UUID, cursor: str | None, limit: int
) -> MessagePage:
    return await _page(mongo, codec, room_conversation(str(course_id)), cursor, limit)


async def _page(
    mongo: Database, codec: CursorCodec, conversation: str, cursor: str | None, limit: int
) -> MessagePage:
    after = None
    if cursor:
        timestamp, last_id = codec.decode(cursor)
        after = older_than(timestamp, _object_id(last_id, BadRequest))
    documents = await repository.page(mongo, conversation, after, limit + 1)
    more = len(documents) > limit
    documents = documents[:limit]
    return MessagePage(
        items=[to_out(d) for d in documents],
        next_cursor=codec.encode(documents[-1]["createdAt"], documents[-1]["_id"])
        if more
        else None,
    )


async def edit(mongo: Database, me: uuid.UUID, message: MongoDocument, text: str) -> MessageOut:
    """Edit one's own message (found with find_message; the sender is checked again here)."""
    document = await repository.update_own(
        mongo, message["_id"], str(me), {"message": text, "editedAt": clock.now()}
    )
    if document is None:
        raise NotFound(f"No message {message['_id']}")
    return to_out(document)


async def soft_delete(mongo: Database, me: uuid.UUID, message: MongoDocument) -> None:
    """The text and attachments are erased; the message keeps its place in the conversation."""
    await repository.update_own(
        mongo,
        message["_id"],
        str(me),
        {"message": "", "attachments": [], "deletedAt": clock.now()},
    )


async def mark_direct_read(mongo: Database, me: uuid.UUID, peer: uuid.UUID) -> int:
    return await repository.mark_direct_read(
        mongo, direct_conversation(str(me), str(peer)), str(me), datetime.now(UTC)
    )


async def mark_room_read(mongo: Database, me: uuid.UUID, course_id: uuid.UUID) -> None:
    await repository.mark_room_read(
        mongo, str(me), room_conversation(str(course_id)), datetime.now(UTC)
    )


async def conversations(
    mongo: Database, me: uuid.UUID, room_course_ids: Sequence[uuid.UUID], limit: int = 100
) -> list[ConversationOut]:
    """Direct conversations and course rooms, each with its unread count."""
    user = str(me)

    async def room(course_id: uuid.UUID) -> ConversationOut:
        conversation = room_conversation(str(course_id))
        since = await repository.last_read(mongo, user, conversation)
        unread, latest = await asyncio.gather(
            repository.count_room_unread(mongo, conversation, user, since),
            repository.latest_in(mongo, conversation),
        )
        return ConversationOut(
            conversation_id=conversation,
            kind="room",
            course_id=course_id,
            last_message_at=latest,
            unread=unread,
        )

    directs, unread, rooms = await asyncio.gather(
        repository.direct_conversations(mongo, user, limit),
        repository.unread_direct_by_conversation(mongo, user),
        asyncio.gather(*(room(c) for c in room_course_ids)),
    )
    listed = [
        ConversationOut(
            conversation_id=d["conversationId"],
            kind="direct",
            peer_id=uuid.UUID(d["peerId"]),
            last_message_at=d["lastMessageAt"],
            unread=unread.get(d["conversationId"], 0),
        )
        for d in directs
    ] + list(rooms)
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(listed, key=lambda c: c.last_message_at or oldest, reverse=True)


async def find_message(mongo: Database, message_id: str) -> MongoDocument | None:
    """A message that has not been deleted; None for a malformed id too."""
    try:
        oid = ObjectId(message_id)
    except (InvalidId, TypeError):
        return None
    document = await repository.get(mongo, oid)
    if document is None or document.get("deletedAt") is not None:
        return None
    return document


def room_of(document: MongoDocument) -> uuid.UUID | None:
    """The course whose room holds the message; None for a direct message."""
    return uuid.UUID(document["roomId"]) if document.get("roomId") else None


def refuse_change(document: MongoDocument, me: uuid.UUID, *, sees_room: bool) -> None:
    """Someone other than the sender asks to change a message: 403 if they can see it (its
    receiver, a member of its room), otherwise 404, as if it did not exist."""
    visible = document.get("receiverId") == str(me) or (
        document.get("roomId") is not None and sees_room
    )
    if visible:
        raise Forbidden("Only the sender may change a message")
    raise NotFound(f"No message {document['_id']}")


async def have_conversation(mongo: Database, me: uuid.UUID, peer: uuid.UUID) -> bool:
    return await repository.conversation_exists(
        mongo, str(me), direct_conversation(str(me), str(peer))
    )


def _object_id(value: str, error: type[BadRequest] | type[NotFound]) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as exc:
        raise error(f"Not a message id: {value!r}") from exc


def _content(body: MessageIn) -> dict[str, object]:
    return {
        "message": body.message,
        "messageType": body.message_type,
        "attachments": [a.model_dump(mode="json") for a in body.attachments],
    }


def to_out(document: MongoDocument) -> MessageOut:
    return MessageOut(
        id=str(document["_id"]),
        conversation_id=document["conversationId"],
        sender_id=uuid.UUID(document["senderId"]),
        receiver_id=uuid.UUID(document["receiverId"]) if document.get("receiverId") else None,
        room_id=uuid.UUID(document["roomId"]) if document.get("roomId") else None,
        message=document["message"],
        message_type=document["messageType"],
        attachments=document.get("attachments", []),
        created_at=document["createdAt"],
        edited_at=document.get("editedAt"),
        deleted=document.get("deletedAt") is not None,
    )
