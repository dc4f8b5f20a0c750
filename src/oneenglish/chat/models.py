"""chat_messages: one document per message (direct or in a course room), soft-deleted in place
so pages stay stable. chat_conversations: per user and direct conversation, the last message
time (kept with $max, so concurrent sends never move it back). chat_reads: per user and room,
when they last read it."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

MESSAGES = "chat_messages"
CONVERSATIONS = "chat_conversations"
READS = "chat_reads"

register_indexes(
    # A conversation's page, newest first.
    IndexSpec(
        MESSAGES, (("conversationId", 1), ("createdAt", -1), ("_id", -1)), "ix_chat_messages_page"
    ),
    # Unread direct messages per conversation.
    IndexSpec(
        MESSAGES,
        (("receiverId", 1), ("readAt", 1), ("conversationId", 1)),
        "ix_chat_messages_unread",
    ),
    IndexSpec(MESSAGES, (("senderId", 1), ("createdAt", -1)), "ix_chat_messages_sender"),
    IndexSpec(
        CONVERSATIONS, (("userId", 1), ("lastMessageAt", -1), ("_id", -1)), "ix_chat_conversations"
    ),
    IndexSpec(READS, (("userId", 1),), "ix_chat_reads_user"),
)
register_reference(
    Reference(MESSAGES, "senderId"),
    Reference(MESSAGES, "receiverId"),
    Reference(MESSAGES, "roomId", table="courses"),
    Reference(CONVERSATIONS, "userId"),
    Reference(CONVERSATIONS, "peerId"),
    Reference(READS, "userId"),
)

LIST_QUERIES = (
    (MESSAGES, ("conversationId",), ("createdAt", "_id")),
    (MESSAGES, ("receiverId", "readAt"), ("conversationId",)),
    (CONVERSATIONS, ("userId",), ("lastMessageAt", "_id")),
)


def direct_conversation(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return f"dm:{first}:{second}"


def room_conversation(course_id: str) -> str:
    return f"room:{course_id}"


register_plans(
    CollectionPlan(
        MESSAGES,
        (("conversationId", 1),),
        "a conversation's page, newest first, is one shard's range; many conversations spread "
        "the writes. A room past one chunk (128 MiB of messages) would be a jumbo chunk: then "
        "add an ascending (conversationId, createdAt) index and refineCollectionShardKey",
    ),
    CollectionPlan(
        CONVERSATIONS,
        (("userId", 1),),
        "each person's conversation list; not by lastMessageAt, which every message changes",
    ),
    CollectionPlan(READS, (("userId", 1),), "each person's read markers, read by person"),
)
