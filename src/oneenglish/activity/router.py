from __future__ import annotations

import uuid

from oneenglish.activity import service
from oneenglish.activity.schemas import ActivityOut
from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.cursors import CursorPage, CursorParam, LimitParam
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb

router = ApiRouter(tags=["activity"])


@router.get(
    "/api/users/{user_id}/activity",
    summary="A user's activity, newest first (yourself, or activity:read)",
    description="One entry per request the user made while authenticated: `action` is the "
    "method and route template, `resource` the path parameters, `metadata` the status and "
    "duration. Entries are written in the background, so the latest requests may take a "
    "moment to appear. Pass `next_cursor` back as `cursor` for the next page.",
)
async def list_activity(
    user_id: uuid.UUID,
    mongo: MongoDb,
    settings: AppSettings,
    principal: CurrentUser,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> CursorPage[ActivityOut]:
    return await service.list_activity(mongo, settings, principal, user_id, cursor, limit)
