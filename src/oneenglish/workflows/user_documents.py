"""Updates of a user's own documents (profile, settings): MongoDB writes made under a share
lock on the user's row (workflows/live_users.py), so that an erasure either waits for them and
removes what they wrote, or has begun and they are a 404. The rules of each update (bounds,
merging, audit) are its domain's service's."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.context import Actor
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db.mongo import Database
from oneenglish.profiles import service as profiles
from oneenglish.profiles.schemas import ProfileOut, ProfilePatch
from oneenglish.user_settings import service as user_settings
from oneenglish.user_settings.schemas import SettingsOut, SettingsPatch
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
