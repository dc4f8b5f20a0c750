"""audit_logs: append-only. `_id` is the id of the event's outbox row, so that delivering an
event twice stores it once."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, register_indexes
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "audit_logs"

# One index per filter combination of GET /api/audit-logs (equality fields, then the
# newest-first sort), so that on MongoDB no page is a blocking sort of a collection that grows
# forever. `entity_id` is only filtered together with `entity`.
register_indexes(
    IndexSpec(COLLECTION, (("timestamp", -1), ("_id", -1)), "ix_audit_logs_timestamp"),
    IndexSpec(COLLECTION, (("actorId", 1), ("timestamp", -1), ("_id", -1)), "ix_audit_logs_actor"),
    IndexSpec(
        COLLECTION,
        (("entity", 1), ("entityId", 1), ("timestamp", -1), ("_id", -1)),
        "ix_audit_logs_entity",
    ),
    IndexSpec(
        COLLECTION, (("entity", 1), ("timestamp", -1), ("_id", -1)), "ix_audit_logs_entity_kind"
    ),
    # The export's "everything about this user": actorId OR entityId, each branch indexed.
    IndexSpec(
        COLLECTION, (("entityId", 1), ("timestamp", -1), ("_id", -1)), "ix_audit_logs_entity_id"
    ),
    IndexSpec(
        COLLECTION,
        (("actorId", 1), ("entity", 1), ("timestamp", -1), ("_id", -1)),
        "ix_audit_logs_actor_entity_kind",
    ),
    IndexSpec(
        COLLECTION,
        (("actorId", 1), ("entity", 1), ("entityId", 1), ("timestamp", -1), ("_id", -1)),
        "ix_audit_logs_actor_entity",
    ),
)

register_plans(
    CollectionPlan(
        COLLECTION,
        (("_id", 1),),
        "kept forever and written by every change, the largest collection: by its id, a random "
        "event id, so writes spread evenly and a redelivered entry meets its duplicate on the "
        "same shard. Not by actor: system entries have none, and would share one chunk that "
        "cannot split. Its reads (staff filters) ask every shard",
        inserted_once=True,
    )
)
