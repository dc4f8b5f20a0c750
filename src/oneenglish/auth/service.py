"""Logging in and out, refresh-token rotation with reuse detection, ending sessions (password
changes and resets, which end them, are in accounts/)."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.auth import repository
from oneenglish.auth.schemas import TokenPair
from oneenglish.core.context import Actor
from oneenglish.core.errors import RateLimited, Unauthorized
from oneenglish.core.principal import Principal
from oneenglish.core.security import (
    InvalidToken,
    decode_access_token,
    hash_password,
    hash_refresh_token,
    issue_access_token,
    needs_rehash,
    new_refresh_token,
    verify_password,
)
from oneenglish.db import rls
from oneenglish.db.postgres import (
    UserTable,
    commit_before_refusing,
    register_user_table,
    release_connection,
)
from oneenglish.settings import Settings
from oneenglish.users import service as users

BAD_CREDENTIALS = "Incorrect email, username or password"


async def authenticate(db: AsyncSession, settings: Settings, token: str) -> Principal:
    """The caller behind an access token; revoked sessions and inactive users are rejected."""
    try:
        claims = decode_access_token(settings, token)
    except InvalidToken as exc:
        raise Unauthorized("Invalid or expired access token") from exc
    # A valid signature makes the caller its subject: from here on the database shows this
    # user's own rows (db/rls.py), starting with the session the principal is read with.
    await rls.act_as(db, claims.user_id)
    row = await repository.load_principal(db, claims.user_id, claims.session_id)
    if row is None:
        raise Unauthorized("The session has ended or the account is inactive")
    return Principal(
        id=row.id,
        email=row.email,
        username=row.username,
        session_id=claims.session_id,
        roles=frozenset(row.roles),
        permissions=frozenset(row.permissions),
    )


def _throttle_rules(
    settings: Settings, user_id: uuid.UUID | None, identifier: str, ip: str | None
) -> list[repository.ThrottleRule]:
    """Who a failed login counts against (see "Login throttling" in the README).

    The account is the user whatever identifier named it (email and username share one count);
    an identifier that names no account is counted by its hash, so unknown and known accounts
    are throttled alike and no identifier is stored in clear. Guessing is slowed per account
    *and client address* first, so an attacker's guesses do not lock the owner out; the account
    as a whole is slowed only past a far higher number of consecutive failures (NIST SP 800-63B
    5.2.2 asks for at most 100), and an address across accounts past its own."""
    account = (
        f"user:{user_id}"
        if user_id is not None
        else "unknown:" + hashlib.sha256(identifier.lower().encode()).hexdigest()
    )
    address = ip or "unknown"
    return [
        repository.ThrottleRule(f"{account}|ip:{address}", settings.login_free_failures_per_client),
        repository.ThrottleRule(account, settings.login_account_lock_threshold),
        repository.ThrottleRule(f"ip:{address}", settings.login_max_failures_per_ip),
    ]


async def _ensure_not_throttled(db: AsyncSession, rules: list[repository.ThrottleRule]) -> None:
    seconds_left = await repository.seconds_blocked(db, [rule.key for rule in rules])
    if seconds_left > 0:
        raise RateLimited(
            "Too many failed logins; wait before trying again", retry_after=math.ceil(seconds_left)
        )


async def login(
    db: AsyncSession,
    settings: Settings,
    identifier: str,
    password: str,
    actor: Actor,
    user_agent: str | None,
) -> TokenPair:
    """A failure is counted and committed before the 401 (commit_before_refusing).

    Failed attempts are counted (throttling) but not audited: an audit row written only for
    existing accounts would make them answer measurably slower than unknown ones."""
    ip = actor.ip
    user = await users.find_by_identifier(db, identifier)
    user_id, stored_hash = (user.id, user.password_hash) if user else (None, None)
    active = user is not None and user.is_active
    rules = _throttle_rules(settings, user_id, identifier, ip)
    await _ensure_not_throttled(db, rules)
    await release_connection(db)  # no connection is held while Argon2 runs
    # Unknown accounts are verified against a dummy hash: same answer, same time.
    valid = await verify_password(stored_hash, password)
    if user_id is None or stored_hash is None or not valid or not active:
        await repository.record_failure(
            db,
            rules,
            user_id,
            base_seconds=settings.login_backoff_base_seconds,
            max_seconds=settings.login_backoff_max_seconds,
            reset_seconds=settings.login_failure_reset_seconds,
        )
        await commit_before_refusing(db)  # the failure counts, though the request fails
        raise Unauthorized(BAD_CREDENTIALS)
    new_hash = await hash_password(password) if needs_rehash(stored_hash) else None
    await rls.act_as(db, user_id)  # the password is right: the session is theirs to create
    session_id = await repository.create_session(db, user_id, ip, user_agent)
    if session_id is None:  # deactivated or erased while the password was being checked
        raise Unauthorized(BAD_CREDENTIALS)
    # A success ends the account's run of failures (the address's count across accounts stays).
    await repository.clear_failures(db, [rules[0].key, rules[1].key])
    if new_hash is not None:
        await users.set_password_hash(db, user_id, new_hash)
    audit.record(
        db,
        dataclasses.replace(actor, user_id=user_id),
        "session.created",
        "session",
        session_id,
        after={"user_id": str(user_id), "user_agent": user_agent},
    )
    return await _issue_tokens(db, settings, user_id, session_id)


async def refresh(
    db: AsyncSession, settings: Settings, actor: Actor, refresh_token: str
) -> TokenPair:
    """Rotate: the presented token is spent and a new one issued in the same session. A spent
    token presented again means it was copied; the whole session is revoked.

    A rotation is not audited (it renews a session every few minutes; its creation and its end
    are audited); a detected reuse is."""
    # The token is the credential: whoever holds it may find its one row (and revoke its
    # session on reuse) before anyone is known.
    await rls.elevate(db)
    row = await repository.lock_refresh_token(db, hash_refresh_token(refresh_token))
    if row is None or row.session_revoked:
        raise Unauthorized("Invalid refresh token")
    if row.used_at is not None:
        await repository.revoke_session(db, row.session_id, "refresh_token_reuse")
        # The caller holds a copied token: they are not known to be the session's user.
        audit.record(
            db,
            actor,
            "session.revoked",
            "session",
            row.session_id,
            after={"user_id": str(row.user_id), "reason": "refresh_token_reuse"},
        )
        await commit_before_refusing(db)  # the revocation stands, though the request fails
        raise Unauthorized("Refresh token reuse detected; the session has been revoked")
    if row.expires_at <= datetime.now(UTC):
        raise Unauthorized("The refresh token has expired; log in again")
    user = await users.find_user(db, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account is inactive")
    await repository.mark_token_used(db, row.id)
    await repository.touch_session(db, row.session_id)
    return await _issue_tokens(db, settings, row.user_id, row.session_id)


async def logout(db: AsyncSession, principal: Principal, actor: Actor) -> None:
    await repository.revoke_session(db, principal.session_id, "logout")
    audit.record(
        db,
        actor,
        "session.revoked",
        "session",
        principal.session_id,
        after={"user_id": str(principal.id), "reason": "logout"},
    )


async def logout_everywhere(db: AsyncSession, principal: Principal, actor: Actor) -> int:
    revoked = await repository.revoke_user_sessions(db, principal.id, "logout_all")
    audit.record(
        db,
        actor,
        "user.sessions_revoked",
        "user",
        principal.id,
        after={"reason": "logout_all", "sessions": revoked},
    )
    return revoked


async def revoke_all_sessions(db: AsyncSession, user_id: uuid.UUID, reason: str) -> int:
    return await repository.revoke_user_sessions(db, user_id, reason)


async def _issue_tokens(
    db: AsyncSession, settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID
) -> TokenPair:
    token, token_hash = new_refresh_token()
    expires = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds)
    await repository.add_refresh_token(db, session_id, token_hash, expires)
    access, ttl = issue_access_token(settings, user_id, session_id)
    return TokenPair(access_token=access, refresh_token=token, expires_in=ttl)


async def sessions_of_user(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {
            "id": str(s.id),
            "created_at": s.created_at.isoformat(),
            "last_used_at": s.last_used_at.isoformat(),
            "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
            "revoked_reason": s.revoked_reason,
            "ip_address": str(s.ip_address) if s.ip_address else None,
            "user_agent": s.user_agent,
        }
        for s in await repository.sessions_of_user(db, user_id)
    ]


async def delete_expired_throttles(db: AsyncSession, settings: Settings) -> int:
    return await repository.delete_expired_throttles(db, settings.login_failure_reset_seconds)


async def throttles_of_user(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    """The user's failed-login counts: for their account, and for it from each address."""
    return [
        {
            "subject": "account from " + t.key.split("|ip:", 1)[1]
            if "|ip:" in t.key
            else "account",
            "failures": t.failures,
            "last_failure_at": t.last_failure_at.isoformat(),
            "blocked_until": t.blocked_until.isoformat() if t.blocked_until else None,
        }
        for t in await repository.throttles_of_user(db, user_id)
    ]


register_user_table(
    UserTable("auth_sessions", "sessions", sessions_of_user),
    UserTable(
        "refresh_tokens",
        excluded_because="SHA-256 digests of session secrets: nothing the user could read; "
        "their sessions are exported",
    ),
    UserTable("login_throttles", "login_throttles", throttles_of_user),
)
