"""What a learner does with their own account by mail: verify the address, reset a forgotten
password, change the address (confirmed from the new one, undoable from the old one), change
the password. README "Accounts".

Every link carries a 256-bit token that is stored nowhere: its row keeps the SHA-256, and the
mail relay derives the token again from SECRET_KEY when it writes the mail
(core/security.py:link_token). A token works once, until it expires, and a newer token of the
same kind (or a password change, for a reset) ends the older ones. The web app serves the
links' pages (`PUBLIC_BASE_URL/account/…#token=…`: in the fragment, which browsers never send
to a server, so no web server logs it) and posts the token to the API."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts import repository
from oneenglish.accounts.models import AccountToken
from oneenglish.audit import service as audit
from oneenglish.auth import service as auth
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, InvalidInput, InvalidLink, NotFound
from oneenglish.core.principal import Principal
from oneenglish.core.security import (
    hash_password,
    hash_refresh_token,
    link_token,
    verify_password,
)
from oneenglish.db import rls
from oneenglish.db.postgres import UserTable, register_user_table, release_connection
from oneenglish.limits import service as limits
from oneenglish.mail import service as mail
from oneenglish.mail.service import MailLink
from oneenglish.settings import Settings
from oneenglish.users import service as users

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
EMAIL_CHANGE = "email_change"
EMAIL_CHANGE_UNDO = "email_change_undo"
LINK_PATHS = {
    VERIFY_EMAIL: "/account/verify-email",
    PASSWORD_RESET: "/account/reset-password",
    EMAIL_CHANGE: "/account/confirm-email",
    EMAIL_CHANGE_UNDO: "/account/undo-email-change",
}
HOUR = 3600
# Expired tokens are kept this long, so a late click hears "expired" rather than "invalid".
EXPIRED_KEPT = timedelta(days=7)


def link_url(settings: Settings, link: MailLink) -> str:
    """The URL a mail carries for `link` (called by the mail relay as it writes the mail)."""
    token = link_token(settings, link.purpose, link.token_id)
    return f"{settings.public_base_url.rstrip('/')}{LINK_PATHS[link.purpose]}#token={token}"


def reset_page_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/account/forgot-password"


async def _issue(
    db: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    purpose: str,
    email: str,
    ttl_seconds: int,
    *,
    supersedes: Sequence[str] = (),
) -> MailLink:
    """A new token (ending the user's unused ones of `supersedes`), as the link a mail names."""
    if supersedes:
        await repository.end_unused(db, user_id, supersedes)
    token_id = uuid.uuid4()
    repository.add(
        db,
        user_id,
        purpose,
        token_id,
        hash_refresh_token(link_token(settings, purpose, token_id)),
        email.lower(),
        datetime.now(UTC) + timedelta(seconds=ttl_seconds),
    )
    return MailLink(purpose=purpose, token_id=token_id)


async def _redeem(db: AsyncSession, token: str, purpose: str, *, lock: bool = True) -> AccountToken:
    """The token's row, if it is a valid, unused, unexpired token for `purpose` (locked, so
    two uses of one token cannot both succeed); 400 otherwise, and nothing changes.

    The token is the credential: whoever holds it may find its one row before anyone is
    known (as with a refresh token)."""
    await rls.elevate(db)
    find = repository.lock_by_hash if lock else repository.find_by_hash
    row = await find(db, hash_refresh_token(token))
    if row is None or row.purpose != purpose:
        raise InvalidLink("This link is not valid: it may be incomplete or for something else")
    if row.used_at is not None:
        raise InvalidLink("This link has already been used, or a newer one replaced it")
    if row.expires_at <= datetime.now(UTC):
        raise InvalidLink("This link has expired; ask for a new one")
    return row


async def _mail_link(
    db: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    purpose: str,
    ttl_seconds: int,
    template: str,
    *,
    to_address: str,
    to_name: str,
    context: dict[str, object],
    supersedes: Sequence[str] = (),
) -> None:
    """Issue a token for `purpose` about `to_address` and mail its link there."""
    link = await _issue(
        db, settings, user_id, purpose, to_address, ttl_seconds, supersedes=supersedes
    )
    mail.send(
        db,
        template,
        user_id=user_id,
        to_address=to_address.lower(),
        to_name=to_name,
        context=context,
        link=link,
    )


# -- email verification ----------------------------------------------------------------------


async def send_verification(db: AsyncSession, settings: Settings, user_id: uuid.UUID) -> None:
    """Mail the user a link that verifies their current address (after registration, or on
    request); earlier verification links stop working."""
    user = await users.require_active_user(db, user_id)
    await _mail_link(
        db,
        settings,
        user.id,
        VERIFY_EMAIL,
        settings.email_verification_ttl_seconds,
        "verify_email",
        to_address=user.email,
        to_name=users.display_name(user),
        context={"hours": settings.email_verification_ttl_seconds // HOUR},
        supersedes=[VERIFY_EMAIL],
    )


async def resend_verification(db: AsyncSession, settings: Settings, principal: Principal) -> None:
    user = await users.require_active_user(db, principal.id)
    if user.email_verified_at is not None:
        raise Conflict("This email address is already verified")
    await limits.consume(
        db,
        limits.Limit("verification mail", settings.account_mails_per_address_per_hour, HOUR),
        f"user:{principal.id}",
    )
    await send_verification(db, settings, user.id)


async def verify_email(db: AsyncSession, actor: Actor, token: str) -> None:
    row = await _redeem(db, token, VERIFY_EMAIL)
    await repository.mark_used(db, row)
    if not await users.mark_email_verified(db, row.user_id, row.email):
        raise InvalidLink("This link is for an address the account no longer has")
    audit.record(
        db,
        dataclasses.replace(actor, user_id=actor.user_id or row.user_id),
        "user.email_verified",
        "user",
        row.user_id,
    )


async def ensure_verified(
    db: AsyncSession, settings: Settings, user_id: uuid.UUID, action: str
) -> None:
    """403 if REQUIRE_VERIFIED_EMAIL_FOR names `action` and the user's address is unverified."""
    if not settings.requires_verified_email(action):
        return
    user = await users.find_user(db, user_id)
    if user is None or user.email_verified_at is None:
        raise Forbidden(
            "Verify your email address first: this needs a verified address "
            "(POST /api/auth/verify-email/resend sends a new link)",
            requires="verified_email",
            action=action,
        )


# -- password reset --------------------------------------------------------------------------


def _address_key(email: str) -> str:
    # Counted by the address's hash: an address that names no account is throttled alike,
    # and none is stored in clear.
    return "address:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def throttle_reset_request(
    db: AsyncSession, settings: Settings, ip: str | None, email: str
) -> None:
    """Count a reset request against the address and the client (429 past either)."""
    await limits.consume(
        db,
        limits.Limit("password reset request", settings.account_mails_per_address_per_hour, HOUR),
        _address_key(email),
    )
    await limits.consume(
        db,
        limits.Limit("password reset request", settings.account_mails_per_ip_per_hour, HOUR),
        f"ip:{ip or 'unknown'}",
    )


async def issue_password_reset(db: AsyncSession, settings: Settings, email: str) -> bool:
    """Mail a reset link if an active account has `email` (run by the relay, never in the
    request, so the request takes the same time whether it does or not)."""
    user = await users.find_by_email(db, email)
    if user is None or not user.is_active or user.erased_at is not None:
        return False
    await _mail_link(
        db,
        settings,
        user.id,
        PASSWORD_RESET,
        settings.password_reset_ttl_seconds,
        "password_reset",
        to_address=user.email,
        to_name=users.display_name(user),
        context={"minutes": settings.password_reset_ttl_seconds // 60},
        supersedes=[PASSWORD_RESET],
    )
    audit.record(db, Actor.system(), "user.password_reset_requested", "user", user.id)
    return True


async def reset_password(
    db: AsyncSession, settings: Settings, actor: Actor, token: str, new_password: str
) -> None:
    row = await _redeem(db, token, PASSWORD_RESET, lock=False)
    user = await users.find_user(db, row.user_id)
    if user is None or not user.is_active:
        raise InvalidLink("This link is for an account that is no longer active")
    user_id, username, email = user.id, user.username, user.email
    users.check_password_policy(new_password, username=username, email=email)
    await release_connection(db)  # no connection is held while Argon2 runs
    new_hash = await hash_password(new_password)
    row = await _redeem(db, token, PASSWORD_RESET)  # again, under its lock: used once
    await repository.mark_used(db, row)
    await _set_password(db, settings, actor, user_id, new_hash, how="reset from a mailed link")


async def change_password(
    db: AsyncSession,
    settings: Settings,
    principal: Principal,
    actor: Actor,
    current_password: str,
    new_password: str,
) -> None:
    user = await users.find_user(db, principal.id)
    if user is None:
        raise NotFound("The account no longer exists")
    user_id, stored_hash, username, email = user.id, user.password_hash, user.username, user.email
    await release_connection(db)  # no connection is held while Argon2 runs
    if not await verify_password(stored_hash, current_password):
        raise InvalidInput(
            "The current password is incorrect",
            errors=[{"loc": ["body", "current_password"], "msg": "incorrect"}],
        )
    users.check_password_policy(new_password, username=username, email=email)
    new_hash = await hash_password(new_password)
    await _set_password(db, settings, actor, user_id, new_hash, how="changed")


async def _set_password(
    db: AsyncSession,
    settings: Settings,
    actor: Actor,
    user_id: uuid.UUID,
    new_hash: str,
    *,
    how: str,
) -> None:
    """The new password ends every session and every reset link, and the user hears of it."""
    await users.set_password_hash(db, user_id, new_hash)
    revoked = await auth.revoke_all_sessions(db, user_id, "password_changed")
    await repository.end_unused(db, user_id, [PASSWORD_RESET])
    # Never a hash in the audit log: only that it changed, and what that ended.
    audit.record(
        db,
        dataclasses.replace(actor, user_id=actor.user_id or user_id),
        "user.password_changed",
        "user",
        user_id,
        after={"sessions_revoked": revoked, "how": how},
    )
    user = await users.require_active_user(db, user_id)
    mail.send(
        db,
        "password_changed",
        user_id=user_id,
        to_address=user.email,
        to_name=users.display_name(user),
        context={"how": how, "reset_url": reset_page_url(settings)},
    )


# -- email change ----------------------------------------------------------------------------


async def request_email_change(
    db: AsyncSession,
    settings: Settings,
    principal: Principal,
    new_email: str,
    current_password: str,
) -> None:
    """Mail a confirmation link to the new address; the account keeps the old one until the
    link is used."""
    user = await users.require_active_user(db, principal.id)
    if user.email == new_email.lower():
        raise Conflict("This is already the account's address")
    if await users.find_by_email(db, new_email) is not None:
        raise Conflict("Another account uses this email address", errors=[{"loc": ["email"]}])
    stored_hash = user.password_hash
    await release_connection(db)  # no connection is held while Argon2 runs
    if not await verify_password(stored_hash, current_password):
        raise InvalidInput(
            "The current password is incorrect",
            errors=[{"loc": ["body", "current_password"], "msg": "incorrect"}],
        )
    await limits.consume(
        db,
        limits.Limit("email change mail", settings.account_mails_per_address_per_hour, HOUR),
        f"user:{principal.id}",
    )
    user = await users.require_active_user(db, principal.id)
    await _mail_link(
        db,
        settings,
        user.id,
        EMAIL_CHANGE,
        settings.email_change_ttl_seconds,
        "email_change_confirm",
        to_address=new_email,
        to_name=users.display_name(user),
        context={
            "new_email": new_email.lower(),
            "hours": settings.email_change_ttl_seconds // HOUR,
        },
        supersedes=[EMAIL_CHANGE],
    )


async def confirm_email_change(
    db: AsyncSession, settings: Settings, actor: Actor, token: str
) -> None:
    """The new address is the account's, verified; the old one is told, with an undo link."""
    row = await _redeem(db, token, EMAIL_CHANGE)
    await repository.mark_used(db, row)
    old_email = await users.change_email(db, row.user_id, row.email, verified=True)
    await repository.end_unused(db, row.user_id, [VERIFY_EMAIL, EMAIL_CHANGE])
    user = await users.require_active_user(db, row.user_id)
    audit.record(
        db,
        dataclasses.replace(actor, user_id=actor.user_id or row.user_id),
        "user.email_changed",
        "user",
        row.user_id,
        before={"email": old_email},
        after={"email": row.email},
    )
    await _mail_link(
        db,
        settings,
        row.user_id,
        EMAIL_CHANGE_UNDO,
        settings.email_change_undo_seconds,
        "email_changed",
        to_address=old_email,
        to_name=users.display_name(user),
        context={"new_email": row.email, "days": settings.email_change_undo_seconds // 86_400},
    )


async def undo_email_change(db: AsyncSession, actor: Actor, token: str) -> None:
    """Back to the old address (verified: its owner just used a link mailed there); every
    session ends and every other link stops working, as the account may be someone else's."""
    row = await _redeem(db, token, EMAIL_CHANGE_UNDO)
    await repository.mark_used(db, row)
    changed_to = await users.change_email(db, row.user_id, row.email, verified=True)
    await repository.end_unused(db, row.user_id, list(LINK_PATHS))
    revoked = await auth.revoke_all_sessions(db, row.user_id, "email_change_undone")
    audit.record(
        db,
        dataclasses.replace(actor, user_id=actor.user_id or row.user_id),
        "user.email_change_undone",
        "user",
        row.user_id,
        before={"email": changed_to},
        after={"email": row.email, "sessions_revoked": revoked},
    )


async def delete_expired(db: AsyncSession) -> int:
    return await repository.delete_expired(db, EXPIRED_KEPT)


async def _export_tokens(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {
            "purpose": t.purpose,
            "email": t.email,
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat(),
            "used_at": t.used_at.isoformat() if t.used_at else None,
        }
        for t in await repository.of_user(db, user_id)
    ]


register_user_table(UserTable("account_tokens", "account_links", _export_tokens))
