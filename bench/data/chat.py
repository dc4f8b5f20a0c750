"""The chat data set: direct conversations between loaded users, 100 messages each.

Conversation j joins user number a = j // 5 with user number (a + 1 + (j mod 5) * users / 5)
mod users (numbers in email order): the first users each talk with five others spread over the
whole set, and no pair repeats. Messages are `chat_messages` documents exactly as
`chat/service.py::send_direct` writes them (an ObjectId `_id` whose time is the message's,
`conversationId` from `chat/models.py::direct_conversation`, text messages without
attachments), sent at increasing times over the last 90 days by either participant; every
message was read a little after it arrived except the last two of each conversation. Each
conversation has the two `chat_conversations` documents `touch_conversations` keeps, with the
time of its last message.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from bench.data import DataSet
from bench.data.bulk import insert_all, recreate
from bench.data.scales import Scale
from bench.data.users import EMAIL_PATTERN
from bench.databases import Databases
from oneenglish.chat.models import CONVERSATIONS, MESSAGES, direct_conversation

MESSAGES_PER_CONVERSATION = 100
PEERS_PER_USER = 5
UNREAD_AT_THE_END = 2
HISTORY = timedelta(days=90)

LINES = (
    "Hi! Did you finish the exercises for lesson three?",
    "Yes, but the phrasal verbs were hard. Can we practise them together?",
    "Sure. How about a call tomorrow evening?",
    "Perfect, I'm free after seven.",
    "I watched a film without subtitles yesterday and understood almost everything!",
    "That's great progress. Which film was it?",
    "Could you check my email to the client before I send it?",
    "Of course. Just one thing: it's 'looking forward to hearing from you'.",
    "Thanks! I always forget the -ing there.",
    "The listening part of the exam is next week. I'm a bit nervous.",
    "You'll be fine. Try the podcast the teacher recommended.",
    "Do you say 'in the weekend' or 'at the weekend'?",
    "British English says 'at the weekend', American English 'on the weekend'.",
    "See you in the speaking club on Friday!",
    "I wrote five new sentences with the second conditional, can I send them?",
    "Good morning! Ready for today's lesson?",
)


def conversation_count(scale: Scale) -> int:
    return scale.chat_messages // MESSAGES_PER_CONVERSATION


def pair(conversation: int, scale: Scale) -> tuple[int, int]:
    """The user numbers of a conversation's two participants."""
    first, k = divmod(conversation, PEERS_PER_USER)
    return first, (first + 1 + k * (scale.users // PEERS_PER_USER)) % scale.users


def peers(user_number: int, scale: Scale) -> list[int]:
    """Users number `user_number` has a conversation with (as its first participant)."""
    if user_number >= conversation_count(scale) // PEERS_PER_USER:
        return []
    return [pair(user_number * PEERS_PER_USER + k, scale)[1] for k in range(PEERS_PER_USER)]


async def present(db: Databases) -> int:
    """Messages, as counted from the conversations' entries (written after every message):
    FerretDB counts documents by reading them all, 13 s for 200 000 messages here."""
    entries = await db.mongo[CONVERSATIONS].count_documents({})
    return entries // 2 * MESSAGES_PER_CONVERSATION


async def wipe(db: Databases) -> None:
    # Nothing else writes chat in the bench database: dropping both collections costs nothing,
    # where deleting two million messages would take many scans of them (see bulk.py).
    await recreate(db, MESSAGES, CONVERSATIONS)


async def load(db: Databases, scale: Scale) -> None:
    if conversation_count(scale) > scale.users:
        raise ValueError(f"scale {scale.name}: too few users for {scale.chat_messages} messages")
    ids = [
        str(r["id"])
        for r in await db.pool.fetch(
            "SELECT id FROM users WHERE email LIKE $1 ORDER BY email", EMAIL_PATTERN
        )
    ]
    if len(ids) != scale.users:
        raise RuntimeError("load the users data set first")
    rng = random.Random(17)
    now = datetime.now(UTC)
    last_message_at: list[tuple[str, str, str, datetime]] = []

    def messages() -> Iterator[dict[str, Any]]:
        machine = rng.randbytes(5)  # ObjectId's per-process random part
        counter = 0
        for conversation in range(conversation_count(scale)):
            a, b = (ids[n] for n in pair(conversation, scale))
            conversation_id = direct_conversation(a, b)
            times = sorted(
                _millis(now - HISTORY * rng.random()) for _ in range(MESSAGES_PER_CONVERSATION)
            )
            for number, created in enumerate(times):
                sender, receiver = (a, b) if rng.random() < 0.5 else (b, a)
                counter += 1
                unread = number >= MESSAGES_PER_CONVERSATION - UNREAD_AT_THE_END
                yield {
                    "_id": ObjectId(
                        int(created.timestamp()).to_bytes(4, "big")
                        + machine
                        + (counter % 2**24).to_bytes(3, "big")
                    ),
                    "message": rng.choice(LINES),
                    "messageType": "text",
                    "attachments": [],
                    "conversationId": conversation_id,
                    "kind": "direct",
                    "senderId": sender,
                    "receiverId": receiver,
                    "roomId": None,
                    "createdAt": created,
                    "editedAt": None,
                    "deletedAt": None,
                    "readAt": None
                    if unread
                    else _millis(created + timedelta(seconds=rng.uniform(5, 3600))),
                }
            last_message_at.append((conversation_id, a, b, times[-1]))

    await insert_all(db, MESSAGES, messages())
    await insert_all(
        db,
        CONVERSATIONS,
        (
            {
                "_id": f"{user}:{conversation_id}",
                "userId": user,
                "peerId": peer,
                "conversationId": conversation_id,
                "lastMessageAt": at,
            }
            for conversation_id, a, b, at in last_message_at
            for user, peer in ((a, b), (b, a))
        ),
    )


def _millis(moment: datetime) -> datetime:
    """BSON dates hold milliseconds: what a stored time reads back as."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


DATASET = DataSet(
    name="chat",
    expected=lambda scale: scale.chat_messages,
    present=present,
    load=load,
    wipe=wipe,
    needs=("users",),
)
