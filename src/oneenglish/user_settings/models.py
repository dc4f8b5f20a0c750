"""user_settings: one document per user, `_id` = the PostgreSQL user id."""

from __future__ import annotations

from oneenglish.db.mongo import (
    IndexSpec,
    Reference,
    register_indexes,
    register_reference,
)
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "user_settings"

register_indexes(
    IndexSpec(COLLECTION, (("userId", 1),), "uq_user_settings_userId", unique=True),
    # Who gets a daily or weekly digest (the digest pass's query): `digests` lists the
    # frequencies the user's notification preferences name.
    IndexSpec(COLLECTION, (("digests", 1), ("_id", 1)), "ix_user_settings_digests"),
)
register_reference(Reference(COLLECTION, "userId"))

register_plans(
    CollectionPlan(
        COLLECTION,
        None,
        "one small document per user, read by _id: as user_profiles",
    )
)
