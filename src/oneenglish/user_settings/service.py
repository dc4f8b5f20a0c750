"""User settings (MongoDB): defaults from the application settings, merged updates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.user_settings import repository
from oneenglish.user_settings.schemas import SettingsOut, SettingsPatch


async def create_default_settings(db: Database, user_id: str, defaults: dict[str, Any]) -> None:
    await repository.create_if_missing(db, user_id, defaults)


async def delete_settings(db: Database, user_id: str) -> None:
    await repository.delete(db, user_id)


async def find_settings(db: Database, user_id: str) -> SettingsOut | None:
    document = await repository.get(db, user_id)
    return to_out(document) if document else None


async def get_settings(db: Database, principal: Principal, user_id: uuid.UUID) -> SettingsOut:
    ensure_self_or_permitted(principal, user_id, "users", "read")
    found = await find_settings(db, str(user_id))
    if found is None:
        raise NotFound(f"No settings for user {user_id}")
    return found


async def update_settings(
    db: Database, principal: Principal, actor: Actor, user_id: uuid.UUID, patch: SettingsPatch
) -> SettingsOut:
    ensure_self_or_permitted(principal, user_id, "users", "update")
    before = await get_settings(db, principal, user_id)
    values = {k: v for k, v in patch.settings.items() if v is not None}
    removed = [k for k, v in patch.settings.items() if v is None]
    document = await repository.merge(db, str(user_id), values, removed)
    if document is None:
        raise NotFound(f"No settings for user {user_id}")
    after = to_out(document)
    await audit.write_now(
        db, actor, "settings.updated", "user_settings", user_id, before=before, after=after
    )
    return after


async def users_with_settings(db: Database, user_ids: Sequence[str]) -> set[str]:
    return await repository.existing_ids(db, user_ids)


def to_out(document: MongoDocument) -> SettingsOut:
    return SettingsOut(
        user_id=document["userId"],
        settings=document.get("settings", {}),
        updated_at=document["updatedAt"],
    )
