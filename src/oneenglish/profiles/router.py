from __future__ import annotations

import uuid

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.profiles import service
from oneenglish.profiles.schemas import ProfileOut, ProfilePatch
from oneenglish.workflows import user_documents

router = ApiRouter(tags=["profiles"])


@router.get("/api/users/{user_id}/profile", summary="A user's profile (yourself, or users:read)")
async def get_profile(user_id: uuid.UUID, mongo: MongoDb, principal: CurrentUser) -> ProfileOut:
    return await service.get_profile(mongo, principal, user_id)


@router.patch(
    "/api/users/{user_id}/profile", summary="Update a profile (yourself, or users:update)"
)
async def update_profile(
    user_id: uuid.UUID,
    body: ProfilePatch,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> ProfileOut:
    return await user_documents.update_profile(db, mongo, principal, actor, user_id, body)


@router.get("/api/me/profile", summary="My profile")
async def get_my_profile(mongo: MongoDb, principal: CurrentUser) -> ProfileOut:
    return await service.get_profile(mongo, principal, principal.id)


@router.patch("/api/me/profile", summary="Update my profile")
async def update_my_profile(
    body: ProfilePatch, db: DbSession, mongo: MongoDb, principal: CurrentUser, actor: CurrentActor
) -> ProfileOut:
    return await user_documents.update_profile(db, mongo, principal, actor, principal.id, body)
