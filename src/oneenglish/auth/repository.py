"""Queries on login sessions, refresh tokens and login throttles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.auth.models import AuthSession, LoginThrottle, RefreshToken
from oneenglish.db import postgres


@dataclass(frozen=True)
class PrincipalRow:
    id: uuid.UUID
    email: str
    username: str
    roles: list[str]
    permissions: list[str]


# Authentication is the one place that reads identity, the login session and the grants
# together, on every request; one statement keeps it to a single round trip.
# Read for every authenticated request, so on the driver (db.postgres.fetch_one).
PRINCIPAL_SQL = """
    SELECT u.id, u.email, u.username,
           coalesce((SELECT array_agg(r.name ORDER BY r.name)
                     FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                     WHERE ur.user_id = u.id), '{}') AS roles,
           coalesce((SELECT array_agg(DISTINCT p.name)
                     FROM permissions p
                     WHERE p.id IN (SELECT rp.permission_id
                                    FROM user_roles ur
                                    JOIN role_permissions rp ON rp.role_id = ur.role_id
                                    WHERE ur.user_id = u.id
                                    UNION
                                    SELECT up.permission_id FROM user_permissions up
                                    WHERE up.user_id = u.id)), '{}') AS permissions
    FROM users u
    JOIN auth_sessions s ON s.user_id = u.id
    WHERE u.id = $1 AND s.id = $2
      AND u.is_active AND s.revoked_at IS NULL
    """


async def load_principal(
    db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> PrincipalRow | None:
    row = await postgres.fetch_one(db, PRINCIPAL_SQL, user_id, session_id)
    if row is None:
        return None
    return PrincipalRow(
        row["id"], row["email"], row["username"], list(row["roles"]), list(row["permissions"])
    )


# The session is created only if the account still exists and is active, checked under a
# share lock on its row: a login whose password check overlapped a deactivation or an erasure
# (both lock the row to change it) either finishes first, and its session is revoked with the
# others, or sees the change and creates nothing.
_CREATE_SESSION_SQL = text(
    """
    INSERT INTO auth_sessions (user_id, ip_address, user_agent)
    SELECT u.id, CAST(:ip AS inet), :user_agent FROM users u
    WHERE u.id = :user_id AND u.is_active
    FOR SHARE
    RETURNING id
    """
)


async def create_session(
    db: AsyncSession, user_id: uuid.UUID, ip: str | None, user_agent: str | None
) -> uuid.UUID | None:
    """The new session's id; None if the account is gone or inactive."""
    result = await db.execute(
        _CREATE_SESSION_SQL, {"user_id": user_id, "ip": ip, "user_agent": user_agent}
    )
    return result.scalar_one_or_none()


async def add_refresh_token(
    db: AsyncSession, session_id: uuid.UUID, token_hash: bytes, expires_at: datetime
) -> None:
    db.add(RefreshToken(session_id=session_id, token_hash=token_hash, expires_at=expires_at))
    await db.flush()


@dataclass(frozen=True)
class RefreshTokenRow:
    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime
    used_at: datetime | None
    session_revoked: bool


async def lock_refresh_token(db: AsyncSession, token_hash: bytes) -> RefreshTokenRow | None:
    """The token row, locked: two concurrent exchanges of one token are serialised, so the
    second sees the first's `used_at` and is treated as reuse."""
    row = (
        await db.execute(
            select(
                RefreshToken.id,
                RefreshToken.session_id,
                AuthSession.user_id,
                RefreshToken.expires_at,
                RefreshToken.used_at,
                AuthSession.revoked_at,
            )
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update(of=RefreshToken)
        )
    ).first()
    if row is None:
        return None
    return RefreshTokenRow(
        row.id, row.session_id, row.user_id, row.expires_at, row.used_at, row.revoked_at is not None
    )


async def mark_token_used(db: AsyncSession, token_id: uuid.UUID) -> None:
    await db.execute(
        update(RefreshToken).where(RefreshToken.id == token_id).values(used_at=func.now())
    )


async def touch_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(
        update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=func.now())
    )


async def revoke_session(db: AsyncSession, session_id: uuid.UUID, reason: str) -> None:
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
    )


async def revoke_user_sessions(db: AsyncSession, user_id: uuid.UUID, reason: str) -> int:
    result = await db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- login throttling ----------------------------------------------------------------------

# A failure counts one more consecutive failure (or the first, once the last is older than the
# reset period) and, from the subject's `free`-th failure on, blocks it for base * 2^(n - free)
# seconds, capped. The new count is needed twice in the SET list, which cannot refer to itself.
_NEW_FAILURES = """CASE WHEN t.last_failure_at + CAST(:reset AS integer) * interval '1 second'
                          <= now()
                     THEN 1 ELSE t.failures + 1 END"""
_BLOCK_FOR = """least(CAST(:max AS double precision),
                      CAST(:base AS double precision) * power(2, {n} - CAST(:free AS integer)))
                * interval '1 second'"""
_RECORD_FAILURE_SQL = text(
    f"""
    INSERT INTO login_throttles AS t (key, user_id, failures, last_failure_at, blocked_until)
    VALUES (:key, CAST(:user_id AS uuid), 1, now(),
            CASE WHEN 1 >= CAST(:free AS integer) THEN now() + {_BLOCK_FOR.format(n=1)} END)
    ON CONFLICT (key) DO UPDATE SET
      failures = {_NEW_FAILURES},
      last_failure_at = now(),
      blocked_until = CASE WHEN {_NEW_FAILURES} >= CAST(:free AS integer)
                           THEN now() + {_BLOCK_FOR.format(n=_NEW_FAILURES)} END
    """  # noqa: S608 - assembled from the constants above, no input
)

_BLOCKED_SQL = text(
    """
    SELECT max(extract(epoch FROM blocked_until - now())) AS seconds_left
    FROM login_throttles
    WHERE key = ANY(:keys) AND blocked_until > now()
    """
)


@dataclass(frozen=True)
class ThrottleRule:
    key: str
    free: int  # failures allowed before each further one blocks the subject


async def seconds_blocked(db: AsyncSession, keys: Sequence[str]) -> float:
    """How long the most blocked of these subjects must still wait (0: none is blocked)."""
    value = await db.scalar(_BLOCKED_SQL, {"keys": list(keys)})
    return float(value or 0.0)


async def record_failure(
    db: AsyncSession,
    rules: Sequence[ThrottleRule],
    user_id: uuid.UUID | None,
    *,
    base_seconds: float,
    max_seconds: float,
    reset_seconds: int,
) -> None:
    await db.execute(
        _RECORD_FAILURE_SQL,
        [
            {
                "key": rule.key,
                "user_id": user_id,
                "free": rule.free,
                "base": base_seconds,
                "max": max_seconds,
                "reset": reset_seconds,
            }
            for rule in rules
        ],
    )


async def clear_failures(db: AsyncSession, keys: Sequence[str]) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))


async def delete_expired_throttles(db: AsyncSession, reset_seconds: int) -> int:
    """Rows whose last failure is older than the reset period and that block nothing."""
    result = await db.execute(
        text(
            "DELETE FROM login_throttles "
            "WHERE last_failure_at + :reset * interval '1 second' <= now() "
            "AND (blocked_until IS NULL OR blocked_until <= now())"
        ),
        {"reset": reset_seconds},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def throttles_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[LoginThrottle]:
    rows = await db.scalars(
        select(LoginThrottle).where(LoginThrottle.user_id == user_id).order_by(LoginThrottle.key)
    )
    return rows.all()


async def sessions_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[AuthSession]:
    rows = await db.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    return rows.all()
