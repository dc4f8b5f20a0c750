from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse

from oneenglish.auth.dependencies import AnonymousActor, CurrentActor, CurrentUser
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.user_settings import service
from oneenglish.user_settings.schemas import (
    NotificationPreferencesOut,
    NotificationPreferencesPatch,
    SettingsOut,
    SettingsPatch,
    Unsubscribed,
)
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


@router.get(
    "/api/me/notification-preferences",
    summary="What each type of notification does for me (inbox, mail, digest, off)",
)
async def my_notification_preferences(
    mongo: MongoDb, principal: CurrentUser
) -> NotificationPreferencesOut:
    return await service.notification_preferences(mongo, principal.id)


@router.patch(
    "/api/me/notification-preferences",
    summary="Set the channel of some notification types",
    description="`in_app`: the inbox only; `email`: the inbox and a mail at once; "
    "`digest_daily` / `digest_weekly`: the inbox and the daily or weekly digest mail of what "
    "is still unread; `off`: not even the inbox. Mail needs the `emailNotifications` setting "
    "on (it is by default).",
)
async def update_my_notification_preferences(
    body: NotificationPreferencesPatch,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> NotificationPreferencesOut:
    return await user_documents.set_notification_preferences(
        db, mongo, actor, principal.id, {str(k): str(v) for k, v in body.preferences.items()}
    )


UnsubscribeToken = Annotated[str, Query(min_length=20, max_length=1000)]
_CONFIRM_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body style="font-family: Arial, sans-serif; max-width: 480px; margin: 48px auto;">
<p>Stop the emails of this kind? They stay in your inbox on the platform.</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
</body></html>"""


@router.get(
    "/api/notification-preferences/unsubscribe",
    summary="The page a mail's unsubscribe link opens: a button that confirms it",
    description="Nothing changes on GET (mail scanners open links); the button POSTs.",
    responses={
        200: {"description": "A page with the button", "content": {"text/html": {}}},
        400: {"description": "The link is not valid"},
    },
)
async def unsubscribe_page(token: UnsubscribeToken, settings: AppSettings) -> HTMLResponse:
    service.read_unsubscribe_token(settings, token)  # a bad link is a 400 here already
    return HTMLResponse(_CONFIRM_PAGE)


@router.post(
    "/api/notification-preferences/unsubscribe",
    summary="One-click unsubscribe from a mail (RFC 8058): no login, the link is signed",
    description="The notification type the link names stops being mailed (it goes to "
    "`in_app`). Idempotent. A mail client's one-click POST (`List-Unsubscribe=One-Click`) "
    "lands here too; its body is ignored.",
    responses={400: {"description": "The link is not valid, or its account is gone"}},
)
async def unsubscribe(
    token: UnsubscribeToken,
    db: DbSession,
    mongo: MongoDb,
    settings: AppSettings,
    actor: AnonymousActor,
) -> Unsubscribed:
    return await user_documents.unsubscribe(db, mongo, settings, actor, token)
