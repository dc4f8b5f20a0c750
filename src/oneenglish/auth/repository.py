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


async def create_session(
    db: AsyncSession, user_id: uuid.UUID, ip: str | None, user_agent: str | None
) -> uuid.UUID:
    session = AuthSession(user_id=user_id, ip_address=ip, user_agent=user_agent)
    db.add(session)
    await db.flush()
    return session.id


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

_RECORD_FAILURE_SQL = text(
    """
    INSERT INTO login_throttles AS t (key, failures, window_started_at)
    VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at + :window * interval '1 second' <= now()
                      THEN 1 ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at + :window * interval '1 second' <= now()
                               THEN now() ELSE t.window_started_at END
    """
)

_OPEN_WINDOWS_SQL = text(
    """
    SELECT key, failures,
           extract(epoch FROM window_started_at + :window * interval '1 second' - now()) AS left_s
    FROM login_throttles
    WHERE key = ANY(:keys) AND window_started_at + :window * interval '1 second' > now()
    """
)


async def failures_in_window(
    db: AsyncSession, keys: Sequence[str], window_seconds: int
) -> dict[str, tuple[int, float]]:
    """key -> (failures, seconds until its window ends), for windows still open."""
    rows = await db.execute(_OPEN_WINDOWS_SQL, {"keys": list(keys), "window": window_seconds})
    return {row.key: (row.failures, float(row.left_s)) for row in rows}


async def record_failure(db: AsyncSession, keys: Sequence[str], window_seconds: int) -> None:
    """Count a failure for each key; a key whose window has ended starts a new one."""
    await db.execute(_RECORD_FAILURE_SQL, [{"key": k, "window": window_seconds} for k in keys])


async def clear_failures(db: AsyncSession, key: str) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def delete_expired_throttles(db: AsyncSession, window_seconds: int) -> int:
    result = await db.execute(
        text(
            "DELETE FROM login_throttles "
            "WHERE window_started_at + :window * interval '1 second' <= now()"
        ),
        {"window": window_seconds},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sessions_of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[AuthSession]:
    rows = await db.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    return rows.all()
