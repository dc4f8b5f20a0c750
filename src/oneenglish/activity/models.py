"""user_activities: one document per request by an authenticated user. Written in batches in
the background; kept ACTIVITY_RETENTION_DAYS, deleted with the user, included in the export."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "user_activities"

register_indexes(
    # A user's activity, newest first (equality on userId, then the sort).
    IndexSpec(
        COLLECTION, (("userId", 1), ("timestamp", -1), ("_id", -1)), "ix_user_activities_user"
    ),
    # Retention deletes by age.
    IndexSpec(COLLECTION, (("timestamp", 1),), "ix_user_activities_timestamp"),
)
register_reference(Reference(COLLECTION, "userId"))

register_plans(
    CollectionPlan(
        COLLECTION,
        (("userId", 1),),
        "every read is one user's history, newest first, which one shard answers; random user "
        "ids spread the writes, and retention bounds each user's share (no jumbo chunk)",
    )
)
