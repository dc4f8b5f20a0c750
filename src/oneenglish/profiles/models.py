"""user_profiles: one document per user, `_id` = the PostgreSQL user id (an indexed point read
on MongoDB and on FerretDB alike)."""

from __future__ import annotations

from oneenglish.db.mongo import (
    IndexSpec,
    Reference,
    register_indexes,
    register_reference,
)

COLLECTION = "user_profiles"

register_indexes(
    IndexSpec(COLLECTION, (("userId", 1),), "uq_user_profiles_userId", unique=True),
)
register_reference(Reference(COLLECTION, "userId"))
