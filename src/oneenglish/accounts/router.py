"""Account links by mail: verification, password reset, email change (README "Accounts")."""

from __future__ import annotations

from typing import Any

from fastapi import status

from oneenglish.accounts import service
from oneenglish.accounts.schemas import (
    Accepted,
    EmailChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    TokenIn,
)
from oneenglish.auth.dependencies import AnonymousActor, CurrentUser
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession
from oneenglish.workflows.request_password_reset import request_password_reset

router = ApiRouter(tags=["accounts"])

INVALID_LINK: dict[int | str, dict[str, Any]] = {
    400: {"description": "The link is invalid, used, replaced or expired"}
}
RESET_ACCEPTED = (
    "If an account has this address, a link to reset its password is on its way. "
    "It works once, for a limited time."
)


@router.post(
    "/api/auth/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Verify my email address with the token of the mailed link",
    responses=INVALID_LINK,
)
async def verify_email(body: TokenIn, db: DbSession, actor: AnonymousActor) -> None:
    await service.verify_email(db, actor, body.token)


@router.post(
    "/api/auth/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail me a new verification link (earlier ones stop working)",
    responses={
        409: {"description": "The address is already verified"},
        429: {"description": "Too many verification mails (Retry-After)"},
    },
)
async def resend_verification(
    db: DbSession, settings: AppSettings, principal: CurrentUser
) -> Accepted:
    await service.resend_verification(db, settings, principal)
    return Accepted(detail="A new verification link is on its way to your address.")


@router.post(
    "/api/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a password reset link (the same answer whatever the address)",
    description="Always 202, in the same time, whether or not an account has the address: "
    "the lookup and the mail happen later, in the background. Throttled per address and per "
    "client (429).",
    responses={429: {"description": "Too many reset requests (Retry-After)"}},
)
async def password_reset(
    body: PasswordResetIn, db: DbSession, settings: AppSettings, actor: AnonymousActor
) -> Accepted:
    await request_password_reset(db, settings, actor, body.email)
    return Accepted(detail=RESET_ACCEPTED)


@router.post(
    "/api/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Choose a new password with the token of the mailed link",
    description="Ends every session of the account and every other reset link; the account's "
    "address is told by mail.",
    responses={**INVALID_LINK, 422: {"description": "The password breaks the password rules"}},
)
async def password_reset_confirm(
    body: PasswordResetConfirmIn, db: DbSession, settings: AppSettings, actor: AnonymousActor
) -> None:
    await service.reset_password(db, settings, actor, body.token, body.new_password)


@router.post(
    "/api/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change my email address: a confirmation link goes to the new address",
    description="The account keeps its address until the link is used; then the old address "
    "is told, with a link that undoes the change.",
    responses={
        409: {"description": "The address is this account's or another's"},
        422: {"description": "The current password is incorrect"},
        429: {"description": "Too many email change mails (Retry-After)"},
    },
)
async def change_email(
    body: EmailChangeIn, db: DbSession, settings: AppSettings, principal: CurrentUser
) -> Accepted:
    await service.request_email_change(
        db, settings, principal, body.new_email, body.current_password
    )
    return Accepted(detail="A confirmation link is on its way to the new address.")


@router.post(
    "/api/auth/email-change/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm the new email address with the token mailed to it",
    responses={**INVALID_LINK, 409: {"description": "Another account took the address"}},
)
async def confirm_email_change(
    body: TokenIn, db: DbSession, settings: AppSettings, actor: AnonymousActor
) -> None:
    await service.confirm_email_change(db, settings, actor, body.token)


@router.post(
    "/api/auth/email-change/undo",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Undo an email change with the token mailed to the old address",
    description="The account goes back to the old address, and every session ends.",
    responses={**INVALID_LINK, 409: {"description": "Another account took the old address"}},
)
async def undo_email_change(body: TokenIn, db: DbSession, actor: AnonymousActor) -> None:
    await service.undo_email_change(db, actor, body.token)
