"""error_logs: one document per unhandled error, `_id` = the error_id the client was given.
Written in the background; kept ERROR_LOG_RETENTION_DAYS; deleted with the user they name."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "error_logs"

# One index per filter combination of the list (equality fields, then the newest-first sort);
# errors are rare, so the extra index writes cost nothing. The first also serves retention.
register_indexes(
    IndexSpec(COLLECTION, (("timestamp", -1), ("_id", -1)), "ix_error_logs_timestamp"),
    IndexSpec(COLLECTION, (("errorType", 1), ("timestamp", -1), ("_id", -1)), "ix_error_logs_type"),
    IndexSpec(COLLECTION, (("userId", 1), ("timestamp", -1), ("_id", -1)), "ix_error_logs_user"),
    IndexSpec(
        COLLECTION,
        (("userId", 1), ("errorType", 1), ("timestamp", -1), ("_id", -1)),
        "ix_error_logs_user_type",
    ),
)
# The export shows that an error happened to the user's request, not the server's internals
# (the same rule as the 500 response itself).
register_reference(Reference(COLLECTION, "userId", export_omits=("message", "stack")))

register_plans(
    CollectionPlan(
        COLLECTION,
        None,
        "bounded by ERROR_LOG_RETENTION_DAYS and written only by unhandled errors: small",
    )
)
