from __future__ import annotations

import uuid

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.user_settings import service
from oneenglish.user_settings.schemas import SettingsOut, SettingsPatch
from oneenglish.workflows import user_documents

router = ApiRouter(tags=["settings"])


@router.get("/api/users/{user_id}/settings", summary="A user's settings (yourself, or users:read)")
async def get_settings(user_id: uuid.UUID, mongo: MongoDb, principal: CurrentUser) -> SettingsOut:
    return await service.get_settings(mongo, principal, user_id)


@router.patch(
    "/api/users/{user_id}/settings",
    summary="Merge settings (yourself, or users:update); a key set to null is removed",
)
async def update_settings(
    user_id: uuid.UUID,
    body: SettingsPatch,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> SettingsOut:
    return await user_documents.update_settings(db, mongo, principal, actor, user_id, body)


@router.get("/api/me/settings", summary="My settings")
async def get_my_settings(mongo: MongoDb, principal: CurrentUser) -> SettingsOut:
    return await service.get_settings(mongo, principal, principal.id)


@router.patch("/api/me/settings", summary="Merge my settings; a key set to null is removed")
async def update_my_settings(
    body: SettingsPatch,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> SettingsOut:
    return await user_documents.update_settings(db, mongo, principal, actor, principal.id, body)
