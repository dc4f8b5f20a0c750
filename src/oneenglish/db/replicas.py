"""PostgreSQL read replicas: which reads go to a standby, and how a client still reads its writes.

A route opts in by taking `ReadDbSession` instead of `DbSession` (catalogue pages, reports:
reads that need no lock and may be a fraction of a second old). Everything else, every write
and every authorization check (the principal, a revoked session) uses the primary: the
authentication dependency takes its own `DbSession`.

- **Health**: each API process asks its replicas every REPLICA_CHECK_SECONDS how far they have
  replayed (`pg_last_wal_replay_lsn()`) and asks the primary where its WAL is. A replica's lag
  is the age of the oldest primary position it has not replayed; one that lags by more than
  REPLICA_MAX_LAG_SECONDS, does not answer, or is not a standby (`pg_is_in_recovery()` false)
  is skipped, with one log line when its state changes. With none usable, reads use the
  primary.
- **Read-your-writes**: a request that committed a write is answered with the primary's WAL
  position after its commit, in `X-Read-After` and a cookie of the same name (browsers and
  cookie-keeping clients send it back on their own; others echo the header). A read that
  carries a position uses a replica only once that replica has replayed past it, otherwise the
  primary. After REPLICA_MAX_LAG_SECONDS every usable replica has replayed it, so the cookie
  lives that long.
- **A replica that fails** at the start of a read (stopped, unreachable) is marked down and the
  read goes to the primary; one that fails in the middle of a read gives that request a 503.

Hand-written: SQLAlchemy routes sessions to binds but knows nothing of replay positions or
lag, and no maintained library does LSN-based read-your-writes for asyncpg.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from oneenglish.core.context import note_read_after, note_session
from oneenglish.core.logging import get_logger
from oneenglish.db import postgres
from oneenglish.settings import Settings

log = get_logger("oneenglish.replicas")

READ_AFTER = "X-Read-After"
READ_AFTER_COOKIE = "oe_read_after"
# The session info key that says "this application has replicas: note commit positions".
TRACK_POSITIONS = "oneenglish.track_wal_positions"
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_lsn(text: str | None) -> int | None:
    match = _LSN.match(text or "")
    return (int(match.group(1), 16) << 32 | int(match.group(2), 16)) if match else None


@dataclass
class ReplicaState:
    name: str
    usable: bool = False
    replayed: int | None = None
    lag_seconds: float | None = None
    error: str | None = None


class Replicas:
    """One process's read replicas: their engines and what it last learnt of each."""

    def __init__(self, settings: Settings, primary: AsyncEngine) -> None:
        self.settings = settings
        self.primary = primary
        self.engines = [
            postgres.create_engine(
                settings,
                url=url,
                application_name="oneenglish_replica_read",
                pre_ping=True,
                # DATABASE_POOLER says how the application reaches its servers: replicas too
                # (the local stack's are reached directly).
                pooled=settings.database_pooler == "pgbouncer" and not settings.uses_local_postgres,
            )
            for url in settings.postgres_replica_urls
        ]
        self.sessionmakers = [postgres.create_sessionmaker(e) for e in self.engines]
        self.states = [ReplicaState(_name(url)) for url in settings.postgres_replica_urls]
        self._turn = itertools.count()
        # (monotonic time, primary WAL position) of recent checks, oldest first.
        self._positions: deque[tuple[float, int]] = deque(maxlen=4096)

    def reader(self, after: int | None) -> tuple[int, async_sessionmaker[AsyncSession]] | None:
        """A usable replica that has replayed `after` (any, when None), taken in turn."""
        candidates = [
            i
            for i, state in enumerate(self.states)
            if state.usable
            and (after is None or (state.replayed is not None and state.replayed >= after))
        ]
        if not candidates:
            return None
        chosen = candidates[next(self._turn) % len(candidates)]
        return chosen, self.sessionmakers[chosen]

    def mark_down(self, index: int, error: BaseException) -> None:
        self._set(index, usable=False, error=_describe(error))

    async def watch_forever(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.settings.replica_check_seconds)

    async def check(self) -> None:
        timeout = self.settings.health_timeout
        try:
            primary = await asyncio.wait_for(_scalar(self.primary, _PRIMARY_POSITION), timeout)
        except Exception as exc:  # the primary down: the replicas' lag cannot be measured
            log.warning("replica check: the primary's position is unknown", error=_describe(exc))
            primary = None
        now = time.monotonic()
        position = parse_lsn(primary)
        if position is not None:
            self._positions.append((now, position))
        horizon = now - 2 * self.settings.replica_max_lag_seconds - 10
        while self._positions and self._positions[0][0] < horizon:
            self._positions.popleft()
        results = await asyncio.gather(
            *(asyncio.wait_for(_replay(e), timeout) for e in self.engines), return_exceptions=True
        )
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                self._set(index, usable=False, error=_describe(result))
                continue
            in_recovery, replayed_text = result
            if not in_recovery:
                self._set(index, usable=False, error="not a standby (pg_is_in_recovery() false)")
                continue
            replayed = parse_lsn(replayed_text)
            lag = self._lag(replayed, now)
            usable = lag is not None and lag <= self.settings.replica_max_lag_seconds
            error = None if usable else f"replay lag {lag if lag is not None else 'unknown'} s"
            self._set(index, usable=usable, error=error, replayed=replayed, lag=lag)

    def _lag(self, replayed: int | None, now: float) -> float | None:
        """The age of the oldest primary position the replica has not replayed (0: none)."""
        if replayed is None or not self._positions:
            return None
        for at, position in self._positions:
            if position > replayed:
                return round(now - at, 3)
        return 0.0

    def _set(
        self,
        index: int,
        *,
        usable: bool,
        error: str | None,
        replayed: int | None = None,
        lag: float | None = None,
    ) -> None:
        state = self.states[index]
        if state.usable != usable:
            if usable:
                log.info("read replica usable", replica=state.name, lag_seconds=lag)
            else:
                log.warning("read replica skipped", replica=state.name, reason=error)
        state.usable, state.error, state.lag_seconds = usable, error, lag
        if replayed is not None:
            state.replayed = replayed

    async def dispose(self) -> None:
        await asyncio.gather(*(engine.dispose() for engine in self.engines))


_PRIMARY_POSITION = "SELECT pg_current_wal_lsn()::text"
_REPLAY = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"


async def _scalar(engine: AsyncEngine, sql: str) -> str | None:
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        value = await driver.fetchval(sql)
    return None if value is None else str(value)


async def _replay(engine: AsyncEngine) -> tuple[bool, str | None]:
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        row = await driver.fetchrow(_REPLAY)
    assert row is not None
    return bool(row[0]), row[1]


def _name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


# -- the request side ---------------------------------------------------------------------------


def client_position(request: Request) -> int | None:
    """The WAL position the client must read after (header, else cookie); 0 for one that
    cannot be parsed, which no replica can promise to have replayed... any, so: the primary."""
    given = request.headers.get(READ_AFTER) or request.cookies.get(READ_AFTER_COOKIE)
    if not given:
        return None
    position = parse_lsn(given)
    return position if position is not None else _UNREADABLE


# Larger than any position: a value the client sent but we cannot read sends it to the primary.
_UNREADABLE = 1 << 64


async def get_read_session(
    request: Request, primary: postgres.DbSession
) -> AsyncIterator[AsyncSession]:
    """A session for a read that may be served by a replica (module docstring); otherwise the
    request's own primary session, the one authentication uses (one connection, not two)."""
    replicas: Replicas | None = request.app.state.replicas
    chosen = replicas.reader(client_position(request)) if replicas else None
    if chosen is not None and replicas is not None:
        index, factory = chosen
        session = factory()
        try:
            await session.connection()  # checked out (and pinged) now, to fall back at once
        except Exception as exc:  # only an outage falls back; anything else is raised
            await session.close()
            if not postgres.is_outage(exc):
                raise
            replicas.mark_down(index, exc)
        else:
            async with session:
                note_session(session)
                yield session
            return
    yield primary


ReadDbSession = Annotated[AsyncSession, Depends(get_read_session)]


async def note_commit_position(db: AsyncSession) -> None:
    """After a request's writes are committed: the primary's WAL position, for its answer."""
    if not db.info.get(TRACK_POSITIONS):
        return
    row = await postgres.fetch_one(db, "SELECT pg_current_wal_insert_lsn()::text")
    if row is not None:
        note_read_after(str(row[0]))
