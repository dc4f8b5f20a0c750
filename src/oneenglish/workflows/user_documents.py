"""Updates of a user's own documents (profile, settings): MongoDB writes made under a share
lock on the user's row (workflows/live_users.py), so that an erasure either waits for them and
removes what they wrote, or has begun and they are a 404. The rules of each update (bounds,
merging, audit) are its domain's service's."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.context import Actor
from oneenglish.core.errors import InvalidLink, NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db.mongo import Database
from oneenglish.profiles import service as profiles
from oneenglish.profiles.schemas import ProfileOut, ProfilePatch
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.user_settings.schemas import (
    NotificationPreferencesOut,
    SettingsOut,
    SettingsPatch,
    Unsubscribed,
)
from oneenglish.workflows.live_users import live_users


async def update_profile(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    user_id: uuid.UUID,
    patch: ProfilePatch,
) -> ProfileOut:
    ensure_self_or_permitted(principal, user_id, "users", "update")
    async with live_users(db, [user_id]):
        return await profiles.update_profile(mongo, principal, actor, user_id, patch)


async def update_settings(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    user_id: uuid.UUID,
    patch: SettingsPatch,
) -> SettingsOut:
    ensure_self_or_permitted(principal, user_id, "users", "update")
    async with live_users(db, [user_id]):
        return await user_settings.update_settings(mongo, principal, actor, user_id, patch)


async def set_notification_preferences(
    db: AsyncSession,
    mongo: Database,
    actor: Actor,
    user_id: uuid.UUID,
    preferences: dict[str, str],
) -> NotificationPreferencesOut:
    async with live_users(db, [user_id]):
        return await user_settings.set_notification_preferences(mongo, actor, user_id, preferences)


async def unsubscribe(
    db: AsyncSession, mongo: Database, settings: Settings, actor: Actor, token: str
) -> Unsubscribed:
    user_id, _ = user_settings.read_unsubscribe_token(settings, token)
    try:
        async with live_users(db, [user_id]):
            return await user_settings.unsubscribe(mongo, settings, actor, token)
    except NotFound as exc:
        raise InvalidLink("This unsubscribe link is for an account that no longer exists") from exc
