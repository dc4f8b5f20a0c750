from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from oneenglish.achievements import service
from oneenglish.achievements.schemas import AchievementPage, Leaderboard, StreakOut
from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.cursors import CursorCodec, CursorParam, LimitParam, codec_for
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.views import achievements as achievements_views

router = ApiRouter(tags=["achievements"])


async def _codec(settings: AppSettings) -> CursorCodec:
    return codec_for(settings.signing_key, "achievements")


Codec = Annotated[CursorCodec, Depends(_codec)]


@router.get("/api/me/achievements", summary="My achievements and points")
async def my_achievements(
    mongo: MongoDb,
    principal: CurrentUser,
    codec: Codec,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> AchievementPage:
    return await service.of_user(mongo, codec, principal.id, cursor, limit)


@router.get(
    "/api/me/streak",
    summary="My study streak: current, longest, and whether today counts yet",
    description="A study day is a day with a completed lesson or a quiz attempt, counted in "
    "the time zone of your `timezone` setting (UTC if unset), as the streak achievements "
    "count them.",
)
async def my_streak(mongo: MongoDb, principal: CurrentUser) -> StreakOut:
    return await service.streak_of(mongo, principal.id)


@router.get(
    "/api/users/{user_id}/achievements",
    summary="A learner's achievements (yourself, people you share a course with, users:read)",
    responses={404: {"description": "No such user, or not one you may see"}},
)
async def user_achievements(
    user_id: uuid.UUID,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    codec: Codec,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> AchievementPage:
    return await achievements_views.achievements_of(
        db, mongo, codec, principal, user_id, cursor, limit
    )


@router.get("/api/leaderboard", summary="Top learners by points, overall or in one course")
async def leaderboard(
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    course_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Leaderboard:
    return await achievements_views.leaderboard(db, mongo, principal, course_id, limit)
