"""The only code that touches realtime_events, and the LISTEN connection of each process."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db.postgres import connect_args
from oneenglish.realtime.models import CHANNEL
from oneenglish.settings import Settings

# One statement: take this stream's turn (a transaction-level advisory lock, so publishers of
# one stream commit in id order), add the event, and (`{notify}`) notify at commit with a
# pointer; with Redis the commit hook announces it instead (fanout.py). `wait` false: only if
# the turn is free at once (no row otherwise).
_PUBLISH = """
    WITH turn AS (SELECT {lock}(hashtextextended(:stream, 0)) AS got),
    added AS (
        INSERT INTO realtime_events (user_id, course_id, type, data)
        SELECT :user_id, :course_id, :type, CAST(:data AS jsonb) FROM turn WHERE {got}
        RETURNING id
    )
    SELECT id{notify} FROM added
    """
_NOTIFY = ", pg_notify(:channel, id || ' ' || :stream)"
_PUBLISH_STATEMENTS = {
    (wait, notify): text(
        _PUBLISH.format(
            lock="pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock",
            got="true" if wait else "got",
            notify=_NOTIFY if notify else "",
        )
    )
    for wait in (True, False)
    for notify in (True, False)
}
_COLUMNS = "id, user_id, course_id, type, data, created_at"


async def publish(
    db: AsyncSession,
    stream: str,
    user_id: uuid.UUID | None,
    course_id: uuid.UUID | None,
    kind: str,
    data: str,
    *,
    wait: bool = True,
    notify: bool = True,
) -> int | None:
    """The event's id; None if `wait` is false and another transaction has the turn."""
    values = {"stream": stream, "user_id": user_id, "course_id": course_id}
    values |= {"type": kind, "data": data} | ({"channel": CHANNEL} if notify else {})
    row = (await db.execute(_PUBLISH_STATEMENTS[wait, notify], values)).first()
    return int(row.id) if row is not None else None


async def take_turns(db: AsyncSession, streams: Sequence[str]) -> None:
    """Every one of these streams' turns, in one order (sorted), so that two transactions that
    publish to the same streams never wait for each other in a cycle."""
    for stream in sorted(set(streams)):
        await db.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:stream, 0))"), {"stream": stream}
        )


async def notify(db: AsyncSession, payload: str) -> None:
    """A signal that is not stored (a typing indicator), sent at commit."""
    await db.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
    )


_RANGES = """
    SELECT e.* FROM unnest(CAST(:targets AS uuid[]), CAST(:floors AS bigint[]),
                           CAST(:ceilings AS bigint[])) AS w(target, floor, ceiling)
    CROSS JOIN LATERAL (
        SELECT {columns} FROM realtime_events r
        WHERE r.{column} = w.target AND r.id > w.floor AND r.id <= w.ceiling
        ORDER BY r.id LIMIT :limit
    ) e
    """
_RANGES_OF = {  # the column is one of two names
    column: text(_RANGES.format(columns=_COLUMNS, column=column))
    for column in ("user_id", "course_id")
}


async def ranges(
    db: AsyncSession, column: str, wanted: Sequence[tuple[uuid.UUID, int, int]], limit: int
) -> Sequence[Row[Any]]:
    """Each stream's events with floor < id <= ceiling (at most `limit` each), one statement
    for all: `wanted` holds (user or course id, floor, ceiling)."""
    if not wanted:
        return []
    targets, floors, ceilings = zip(*wanted, strict=True)
    return (
        await db.execute(
            _RANGES_OF[column],
            {
                "targets": list(targets),
                "floors": list(floors),
                "ceilings": list(ceilings),
                "limit": limit,
            },
        )
    ).all()


async def newest(db: AsyncSession, window: timedelta) -> Sequence[Row[Any]]:
    """Each stream's newest event id among those stored in the last `window` (the sweep)."""
    return (
        await db.execute(
            text(
                "SELECT user_id, course_id, max(id) AS id FROM realtime_events "
                "WHERE created_at > now() - CAST(:window AS interval) GROUP BY 1, 2"
            ),
            {"window": window},
        )
    ).all()


async def since(
    db: AsyncSession, column: str, target: uuid.UUID, after_id: int, limit: int
) -> Sequence[Row[Any]]:
    if column not in ("user_id", "course_id"):
        raise ValueError(column)
    return (
        await db.execute(
            text(
                f"SELECT {_COLUMNS} FROM realtime_events "  # noqa: S608 - a checked column
                f"WHERE {column} = :target AND id > :after ORDER BY id LIMIT :limit"
            ),
            {"target": target, "after": after_id, "limit": limit},
        )
    ).all()


async def last_id(db: AsyncSession, column: str, target: uuid.UUID) -> int:
    if column not in ("user_id", "course_id"):
        raise ValueError(column)
    found = await db.scalar(
        text(f"SELECT max(id) FROM realtime_events WHERE {column} = :target"),  # noqa: S608
        {"target": target},
    )
    return int(found or 0)


async def oldest_id(db: AsyncSession) -> int | None:
    found = await db.scalar(text("SELECT min(id) FROM realtime_events"))
    return int(found) if found is not None else None


async def live_sessions(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these sessions still stand: not revoked, their user active and not erased."""
    rows = await db.scalars(
        text(
            "SELECT s.id FROM auth_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ANY(:ids) AND s.revoked_at IS NULL AND u.is_active "
            "AND u.erased_at IS NULL"
        ),
        {"ids": list(session_ids)},
    )
    return set(rows)


async def delete_older_than(db: AsyncSession, age: timedelta) -> int:
    result = await db.execute(
        text("DELETE FROM realtime_events WHERE created_at < now() - CAST(:age AS interval)"),
        {"age": age},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def listen(
    settings: Settings, on_payload: Callable[[str], None], on_lost: Callable[[], None]
) -> asyncpg.Connection:
    """A connection of its own that LISTENs on CHANNEL (outside the pool: it is held for the
    process's lifetime). `on_lost` is called if it drops."""
    # Past any pooler: a transaction pooler would give its server connection to others.
    url = settings.postgres_direct_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    args = connect_args(settings, application_name="oneenglish-realtime")
    connection: asyncpg.Connection = await asyncpg.connect(url, **args)
    await connection.add_listener(CHANNEL, lambda *a: on_payload(str(a[-1])))
    connection.add_termination_listener(lambda _c: on_lost())
    return connection
