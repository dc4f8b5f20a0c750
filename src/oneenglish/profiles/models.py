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
# Stored encrypted with the user's own data key (db/encryption.py): what identifies, locates or
# describes a person. `preferences` (interface choices) stays in clear. No query filters on
# these: ciphertext matches nothing.
ENCRYPTED_FIELDS = frozenset({"bio", "address", "city", "phone", "dateOfBirth", "socialLinks"})

register_indexes(
    IndexSpec(COLLECTION, (("userId", 1),), "uq_user_profiles_userId", unique=True),
)
register_reference(Reference(COLLECTION, "userId"))
