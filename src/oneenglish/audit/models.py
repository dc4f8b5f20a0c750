"""audit_logs: append-only. `_id` is the id of the event's outbox row, so that delivering an
event twice stores it once."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, register_indexes

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
