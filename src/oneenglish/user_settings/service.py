"""User settings (MongoDB): defaults from the application settings, merged updates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.documents import encoded_size
from oneenglish.core.errors import Conflict, InvalidInput, InvalidLink, NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.core.security import InvalidToken, sign_claims, verify_claims
from oneenglish.db.mongo import ConcurrentUpdate, Database, MongoDocument
from oneenglish.settings import Settings
from oneenglish.user_settings import repository
from oneenglish.user_settings.schemas import (
    DEFAULT_CHANNELS,
    EMAIL_SWITCH_KEY,
    NOTIFICATION_TYPES,
    TIMEZONE_KEY,
    NotificationPreferencesOut,
    SettingsOut,
    SettingsPatch,
    Unsubscribed,
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


# -- notification preferences ----------------------------------------------------------------

UNSUBSCRIBE = "unsubscribe"
DIGEST_CHANNELS = {"digest_daily": "daily", "digest_weekly": "weekly"}


@dataclass(frozen=True)
class Channels:
    """A user's notification channels as they act: the preference, or the default, with mail
    channels kept in the inbox while the `emailNotifications` switch is off."""

    chosen: dict[str, str]
    email_enabled: bool

    def of(self, notification_type: str) -> str:
        channel = self.chosen.get(notification_type, DEFAULT_CHANNELS.get(notification_type))
        if channel is None:
            return "in_app"
        if channel != "off" and channel != "in_app" and not self.email_enabled:
            return "in_app"
        return channel

    def mailed_at_once(self) -> set[str]:
        return {t for t in NOTIFICATION_TYPES if self.of(t) == "email"}

    def in_digest(self, frequency: str) -> list[str]:
        return [t for t in NOTIFICATION_TYPES if DIGEST_CHANNELS.get(self.of(t)) == frequency]


def channels_in(document: MongoDocument | None) -> Channels:
    document = document or {}
    return Channels(
        chosen=dict(document.get("notificationPreferences") or {}),
        email_enabled=document.get("settings", {}).get(EMAIL_SWITCH_KEY, True) is not False,
    )


async def channels_of(mongo: Database, user_id: str) -> Channels:
    return channels_in(await repository.get(mongo, user_id))


def _preferences_out(document: MongoDocument) -> NotificationPreferencesOut:
    chosen = channels_in(document)
    return NotificationPreferencesOut.model_validate(
        {
            "preferences": {
                t: chosen.chosen.get(t, DEFAULT_CHANNELS[t]) for t in NOTIFICATION_TYPES
            },
            "email_enabled": chosen.email_enabled,
        }
    )


async def notification_preferences(
    mongo: Database, user_id: uuid.UUID
) -> NotificationPreferencesOut:
    document = await repository.get(mongo, str(user_id))
    if document is None:
        raise NotFound(f"No settings for user {user_id}")
    return _preferences_out(document)


async def set_notification_preferences(
    mongo: Database, actor: Actor, user_id: uuid.UUID, preferences: dict[str, str]
) -> NotificationPreferencesOut:
    document = await repository.get(mongo, str(user_id))
    if document is None:
        raise NotFound(f"No settings for user {user_id}")
    before: dict[str, str] = {
        str(k): str(v) for k, v in _preferences_out(document).preferences.items()
    }
    merged = {**before, **preferences}
    digests = sorted({DIGEST_CHANNELS[c] for c in merged.values() if c in DIGEST_CHANNELS})
    document = await repository.set_preferences(mongo, str(user_id), preferences, digests)
    if document is None:
        raise NotFound(f"No settings for user {user_id}")
    await audit.write_now(
        mongo,
        actor,
        "notification_preferences.updated",
        "user_settings",
        user_id,
        before={k: before.get(k) for k in preferences},
        after=preferences,
    )
    return _preferences_out(document)


def unsubscribe_url(settings: Settings, user_id: uuid.UUID, types: Sequence[str]) -> str:
    """A one-click link that stops mail about these notification types (signed, no login)."""
    token = sign_claims(settings, UNSUBSCRIBE, {"sub": str(user_id), "nt": ",".join(types)})
    base = settings.public_base_url.rstrip("/")
    return f"{base}/api/notification-preferences/unsubscribe?token={token}"


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[uuid.UUID, list[str]]:
    try:
        claims = verify_claims(settings, UNSUBSCRIBE, token)
        user_id, types = uuid.UUID(claims["sub"]), claims["nt"].split(",")
    except (InvalidToken, KeyError, ValueError) as exc:
        raise InvalidLink("This unsubscribe link is not valid") from exc
    if not types or any(t not in NOTIFICATION_TYPES for t in types):
        raise InvalidLink("This unsubscribe link is not valid")
    return user_id, types


async def unsubscribe(
    mongo: Database, settings: Settings, actor: Actor, token: str
) -> Unsubscribed:
    """The types' mail stops: their notifications stay in the inbox (in_app). Idempotent."""
    user_id, types = read_unsubscribe_token(settings, token)
    document = await repository.get(mongo, str(user_id))
    if document is None:
        raise InvalidLink("This unsubscribe link is for an account that no longer exists")
    chosen = channels_in(document).chosen
    mailed = [t for t in types if chosen.get(t, DEFAULT_CHANNELS[t]) not in ("in_app", "off")]
    if mailed:
        await set_notification_preferences(mongo, actor, user_id, dict.fromkeys(mailed, "in_app"))
    return Unsubscribed.model_validate({"notification_types": types, "email": False})


async def with_digest(
    mongo: Database, frequency: str, after_id: str | None, limit: int
) -> list[MongoDocument]:
    return [d async for d in repository.with_digest(mongo, frequency, after_id, limit)]
