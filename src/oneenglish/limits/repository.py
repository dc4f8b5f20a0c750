"""The only code that touches rate_limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Window:
    hits: int
    seconds_left: float


_HIT_SQL = text(
    """
    INSERT INTO rate_limits AS r (key, hits, window_started_at, window_seconds)
    VALUES (:key, 1, now(), :window)
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN r.window_started_at + r.window_seconds * interval '1 second' <= now()
                  THEN 1 ELSE r.hits + 1 END,
      window_started_at = CASE
                  WHEN r.window_started_at + r.window_seconds * interval '1 second' <= now()
                  THEN now() ELSE r.window_started_at END,
      window_seconds = :window
    RETURNING hits,
      extract(epoch FROM window_started_at + window_seconds * interval '1 second' - now())
        AS seconds_left
    """
)

_PEEK_SQL = text(
    """
    SELECT hits,
      extract(epoch FROM window_started_at + window_seconds * interval '1 second' - now())
        AS seconds_left
    FROM rate_limits
    WHERE key = :key AND window_started_at + window_seconds * interval '1 second' > now()
    """
)


async def hit(db: AsyncSession, key: str, window_seconds: int) -> Window:
    """Count one hit (the row is locked until the caller's transaction ends)."""
    row = (await db.execute(_HIT_SQL, {"key": key, "window": window_seconds})).one()
    return Window(row.hits, float(row.seconds_left))


async def peek(db: AsyncSession, key: str) -> Window | None:
    row = (await db.execute(_PEEK_SQL, {"key": key})).first()
    return Window(row.hits, float(row.seconds_left)) if row else None


async def delete_naming(db: AsyncSession, actor: str) -> int:
    """Every counter of an actor (keys end in `:<actor>`)."""
    escaped = actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await db.execute(
        text("DELETE FROM rate_limits WHERE key LIKE :pattern"), {"pattern": f"%:{escaped}"}
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_expired(db: AsyncSession) -> int:
    result = await db.execute(
        text(
            "DELETE FROM rate_limits "
            "WHERE window_started_at + window_seconds * interval '1 second' <= now()"
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
