"""notifications: one document per notification. `_id` is derived from what caused it (an event
id, a message id), so creating one twice stores it once."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "notifications"

register_indexes(
    # The inbox page (newest first) and its unread filter.
    IndexSpec(
        COLLECTION, (("userId", 1), ("createdAt", -1), ("_id", -1)), "ix_notifications_inbox"
    ),
    IndexSpec(
        COLLECTION,
        (("userId", 1), ("isRead", 1), ("createdAt", -1), ("_id", -1)),
        "ix_notifications_unread",
    ),
)
register_reference(Reference(COLLECTION, "userId"))

# The list queries above, as (equality fields, sort fields): checked against the indexes in tests.
LIST_QUERIES = (
    (COLLECTION, ("userId",), ("createdAt", "_id")),
    (COLLECTION, ("userId", "isRead"), ("createdAt", "_id")),
)

register_plans(
    CollectionPlan(
        COLLECTION,
        (("userId", 1),),
        "each person's inbox, one shard's range; not by time, since a notification is inserted "
        "once by its event's id and a redelivery must meet its duplicate on the same shard",
        inserted_once=True,
    )
)
