"""Reads that combine a user's PostgreSQL row with their MongoDB documents.

Both databases are asked at the same time. When MongoDB is down, the account read degrades:
200 with `profile` and `settings` null and `degraded: ["mongodb"]`; PostgreSQL down is a 503.
The export never degrades: a partial export would claim to be complete, so it is a 503."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db import encryption, rls
from oneenglish.db.mongo import (
    Database,
    Reference,
    is_unavailable,
    user_references,
)
from oneenglish.db.postgres import user_tables
from oneenglish.profiles import service as profiles
from oneenglish.profiles.schemas import ProfileOut
from oneenglish.user_settings import service as user_settings
from oneenglish.user_settings.schemas import SettingsOut
from oneenglish.users import service as users
from oneenglish.users.schemas import UserOut

log = get_logger("oneenglish.accounts")

EXPORT_LIMIT_PER_COLLECTION = 50_000


class UserAccountOut(UserOut):
    profile: ProfileOut | None
    settings: SettingsOut | None
    degraded: list[str]


async def _documents(
    mongo: Database, user_id: str
) -> tuple[ProfileOut | None, SettingsOut | None, list[str]]:
    try:
        profile, settings = await asyncio.gather(
            profiles.find_profile(mongo, user_id), user_settings.find_settings(mongo, user_id)
        )
    except PyMongoError as exc:
        if not is_unavailable(exc):
            raise
        log.warning("account read without MongoDB", error=str(exc))
        return None, None, ["mongodb"]
    return profile, settings, []


async def get_user_account(
    db: AsyncSession, mongo: Database, principal: Principal, user_id: uuid.UUID
) -> UserAccountOut:
    ensure_self_or_permitted(principal, user_id, "users", "read")
    user, (profile, settings, degraded) = await asyncio.gather(
        users.get_user_unchecked(db, user_id), _documents(mongo, str(user_id))
    )
    return UserAccountOut(
        **user.model_dump(), profile=profile, settings=settings, degraded=degraded
    )


async def export_user_data(
    db: AsyncSession, mongo: Database, principal: Principal, user_id: uuid.UUID
) -> dict[str, Any]:
    """Everything we hold about a user, from both databases, as one JSON document.

    Driven by the registries: every PostgreSQL table that holds rows about the user
    (db.postgres.register_user_table, each with its domain's export) and every MongoDB field
    that points at them (db.mongo.register_reference); tests fail when a table is in neither.
    The documents of each collection are read through its Reference (db.mongo), since a
    reference is all that selects them. Audit entries are bounded as they
    are shown (an entry older than that bound is summarised, never sent whole)."""
    ensure_self_or_permitted(principal, user_id, "users", "read")
    # The database shows this request the subject's rows, and only theirs (db/rls.py): for
    # the subject that is nothing new; staff allowed just above see that one user.
    await rls.act_as(db, user_id)
    await users.get_user_unchecked(db, user_id)  # 404 for nobody, before anything is read
    uid = str(user_id)

    async def postgres_part() -> dict[str, Any]:
        # One session, so one statement at a time.
        return {t.name: await t.export(db, user_id) for t in user_tables() if t.export}

    async def collection(reference: Reference) -> tuple[str, list[dict[str, Any]]]:
        documents = await reference.documents_of(mongo, uid, EXPORT_LIMIT_PER_COLLECTION)
        cipher = encryption.for_database(mongo)  # personal fields are exported in clear
        return reference.collection, [await cipher.decrypt_fields(d) for d in documents]

    async def mongo_part() -> dict[str, list[dict[str, Any]]]:
        found = await asyncio.gather(*(collection(ref) for ref in user_references()))
        documents: dict[str, list[dict[str, Any]]] = {}
        for name, docs in found:
            documents.setdefault(name, []).extend(docs)
        entries = await audit.entries_about_user(mongo, uid, EXPORT_LIMIT_PER_COLLECTION)
        documents["audit_logs"] = [
            {**entry, "changes": audit.bounded_changes(entry)} for entry in entries
        ]
        return documents

    postgres, mongodb = await asyncio.gather(postgres_part(), mongo_part())
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "postgresql": postgres,
        "mongodb": mongodb,
    }
