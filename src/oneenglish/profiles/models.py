"""user_profiles: one document per user, `_id` = the PostgreSQL user id (an indexed point read
on MongoDB and on FerretDB alike)."""

from __future__ import annotations

from oneenglish.db.mongo import (
    IndexSpec,
    Reference,
    register_indexes,
    register_reference,
)
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "user_profiles"
# Stored encrypted with the user's own data key (db/encryption.py): what identifies, locates or
# describes a person. `preferences` (interface choices) stays in clear. No query filters on
# these: ciphertext matches nothing.
ENCRYPTED_FIELDS = frozenset({"bio", "address", "city", "phone", "dateOfBirth", "socialLinks"})

register_indexes(
    IndexSpec(COLLECTION, (("userId", 1),), "uq_user_profiles_userId", unique=True),
)
register_reference(Reference(COLLECTION, "userId"))

register_plans(
    CollectionPlan(
        COLLECTION,
        None,
        "one document of about 1 KiB per user (1M learners: about 1 GiB), read by _id: a "
        "replica set's secondaries scale it; sharded, it would need a key both its _id reads "
        "and its unique userId index start with",
    )
)
