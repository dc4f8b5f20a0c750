"""The only code that touches user_profiles (besides the registry-driven erasure, export and
reconcile, which reach it through db.mongo.Reference)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from oneenglish.db import encryption
from oneenglish.db.mongo import Database, MongoDocument, replace_changed
from oneenglish.profiles.models import COLLECTION, ENCRYPTED_FIELDS


async def create_if_missing(mongo: Database, user_id: str) -> None:
    """Idempotent: a replay finds the document there and changes nothing."""
    now = datetime.now(UTC)
    await mongo[COLLECTION].update_one(
        {"_id": user_id},
        {
            "$setOnInsert": {
                "userId": user_id,
                "bio": "",
                "address": "",
                "city": "",
                "phone": "",
                "dateOfBirth": None,
                "socialLinks": {},
                "preferences": {},
                "createdAt": now,
                "updatedAt": now,
            }
        },
        upsert=True,
    )


async def get(mongo: Database, user_id: str) -> MongoDocument | None:
    """The profile with its personal fields in clear (encryption.KeyUnavailable when the
    user's data key is gone)."""
    return await _decrypted(mongo, await mongo[COLLECTION].find_one({"_id": user_id}))


async def update(mongo: Database, user_id: str, changes: dict[str, Any]) -> MongoDocument | None:
    """Replace the changed fields (social links and preferences are objects: see
    db.mongo.replace_changed for why this is a whole replacement, not a `$set`). Personal
    fields are stored encrypted with the user's data key (an empty value stays empty)."""
    cipher = encryption.for_database(mongo)
    personal = {
        field: value
        for field, value in changes.items()
        if field in ENCRYPTED_FIELDS and value not in ("", {}, None)
    }
    stored = {**changes, **(await cipher.encrypt_fields(user_id, personal) if personal else {})}

    def change(current: MongoDocument) -> MongoDocument:
        return {**current, **stored, "updatedAt": datetime.now(UTC)}

    return await _decrypted(mongo, await replace_changed(mongo[COLLECTION], user_id, change))


async def _decrypted(mongo: Database, document: MongoDocument | None) -> MongoDocument | None:
    if document is None:
        return None
    return await encryption.for_database(mongo).decrypt_fields(document)


async def delete(mongo: Database, user_id: str) -> None:
    await mongo[COLLECTION].delete_one({"_id": user_id})


async def existing_ids(mongo: Database, user_ids: Sequence[str]) -> set[str]:
    cursor = mongo[COLLECTION].find({"_id": {"$in": list(user_ids)}}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}
