"""User settings (MongoDB): defaults from the application settings, merged updates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.documents import encoded_size
from oneenglish.core.errors import Conflict, InvalidInput, NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db.mongo import ConcurrentUpdate, Database, MongoDocument
from oneenglish.user_settings import repository
from oneenglish.user_settings.schemas import (
    TIMEZONE_KEY,
    SettingsOut,
    SettingsPatch,
    is_time_zone,
)


async def create_default_settings(mongo: Database, user_id: str, defaults: dict[str, Any]) -> None:
    await repository.create_if_missing(mongo, user_id, defaults)


async def delete_settings(mongo: Database, user_id: str) -> None:
    await repository.delete(mongo, user_id)


async def find_settings(mongo: Database, user_id: str) -> SettingsOut | None:
    document = await repository.get(mongo, user_id)
    return to_out(document) if document else None


async def get_settings(mongo: Database, principal: Principal, user_id: uuid.UUID) -> SettingsOut:
    ensure_self_or_permitted(principal, user_id, "users", "read")
    found = await find_settings(mongo, str(user_id))
    if found is None:
        raise NotFound(f"No settings for user {user_id}")
    return found


# The whole settings object, merged, stays within these bounds (a PATCH that would pass them is
# a 422 naming the limit): each PATCH is small, but they add up.
MAX_SETTINGS_BYTES = 64 * 1024
MAX_SETTINGS_KEYS = 200


async def update_settings(
    mongo: Database, principal: Principal, actor: Actor, user_id: uuid.UUID, patch: SettingsPatch
) -> SettingsOut:
    """Merge key by key (null removes a key), check the merged object's bounds, store it."""
    ensure_self_or_permitted(principal, user_id, "users", "update")
    seen: dict[str, Any] = {}

    def merged(stored: dict[str, Any]) -> dict[str, Any]:
        seen.clear()
        seen.update(stored)
        result = {**stored, **{k: v for k, v in patch.settings.items() if v is not None}}
        for key in [k for k, v in patch.settings.items() if v is None]:
            result.pop(key, None)
        _check_bounds(result)
        return result

    try:
        document = await repository.merge(mongo, str(user_id), merged)
    except ConcurrentUpdate as exc:
        raise Conflict("The settings were being changed at the same time; retry") from exc
    if document is None:
        raise NotFound(f"No settings for user {user_id}")
    after = document.get("settings", {})
    # The entry holds the keys this PATCH changed, not both whole documents.
    await audit.write_now(
        mongo,
        actor,
        "settings.updated",
        "user_settings",
        user_id,
        before={k: seen.get(k) for k in patch.settings},
        after={k: after.get(k) for k in patch.settings},
    )
    return to_out(document)


def _check_bounds(settings: dict[str, Any]) -> None:
    if len(settings) > MAX_SETTINGS_KEYS:
        raise InvalidInput(
            f"Settings may hold at most {MAX_SETTINGS_KEYS} keys; this would make "
            f"{len(settings)}. Remove some (set them to null) first.",
            limit_keys=MAX_SETTINGS_KEYS,
        )
    size = encoded_size(settings)
    if size > MAX_SETTINGS_BYTES:
        raise InvalidInput(
            f"Settings may take at most {MAX_SETTINGS_BYTES} bytes; this would make {size}. "
            "Remove some (set them to null) first.",
            limit_bytes=MAX_SETTINGS_BYTES,
        )


async def time_zone_of(mongo: Database, user_id: str) -> ZoneInfo:
    """The learner's time zone (their `timezone` setting), UTC if unset or no longer known."""
    document = await repository.get(mongo, user_id)
    zone = (document or {}).get("settings", {}).get(TIMEZONE_KEY)
    return ZoneInfo(zone) if is_time_zone(zone) else ZoneInfo("UTC")


async def users_with_settings(mongo: Database, user_ids: Sequence[str]) -> set[str]:
    return await repository.existing_ids(mongo, user_ids)


def to_out(document: MongoDocument) -> SettingsOut:
    return SettingsOut(
        user_id=document["userId"],
        settings=document.get("settings", {}),
        updated_at=document["updatedAt"],
    )
