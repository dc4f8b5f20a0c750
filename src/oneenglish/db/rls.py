"""Row Level Security: whose rows the database itself lets a connection see.

The tables that hold one learner's own rows (enrollments, lesson_activity, auth_sessions,
refresh_tokens, user_permissions) have RLS enabled and forced (migration 0010): their policies
admit a row only when `app.user_id` is its owner (or, for enrollments and their activity, the
teacher of its course), or when `app.scope` is `system`. So a query that forgets its
`WHERE user_id = …` still returns only the caller's rows, and a connection that says nothing
sees none of them.

Who the caller is lives in a context variable, set once per request by authentication (and
by login, once the password is checked) and to `system` by the processes that act for
everyone (the saga relay, jobs, the command line) and by services, by name, where the RBAC
check has already allowed a cross-user operation (`elevate`). It reaches PostgreSQL when a
connection is checked out of the pool: one statement that sets both settings for the
connection (not for a transaction: the hot reads run on the driver outside any transaction).
Every checkout sets them, so no connection ever keeps the previous user's scope. A change of
scope while a request holds its connection is applied at once.

Behind a transaction pooler (PgBouncer, DATABASE_POOLER) a connection's next transaction may
run on another server connection, shared with other clients: there the settings are made
for each transaction instead (`set_config(..., true)` as its first statement, whether a
session or a bare connection begins it), so they end with it and never reach another client;
the hot reads then run inside that transaction. Hand-written because it is two settings and
two events; no library does this for SQLAlchemy and asyncpg.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import await_

# The tables under RLS, and how their rows name their owner (migration 0010 has the policies).
PROTECTED_TABLES = (
    "enrollments",
    "lesson_activity",
    "study_clocks",  # migration 0011
    "study_days",  # migration 0012
    "quiz_answers",  # migration 0012
    "auth_sessions",
    "refresh_tokens",
    "user_permissions",
    "account_tokens",  # migration 0014
    "mail_digests",  # migration 0014
    "realtime_events",  # migration 0015
    "orders",  # migration 0016
    "coupon_redemptions",  # migration 0016
    "payments",  # migration 0016
    "refunds",  # migration 0016
)

_APPLY = "SELECT set_config('app.user_id', $1, false), set_config('app.scope', $2, false)"
_APPLY_LOCAL = "SELECT set_config('app.user_id', $1, true), set_config('app.scope', $2, true)"
# The engines (their sync halves) whose settings are made per transaction.
_PER_TRANSACTION: weakref.WeakSet[Engine] = weakref.WeakSet()


@dataclass(frozen=True)
class RowScope:
    user_id: uuid.UUID | None = None
    system: bool = False

    def settings(self) -> tuple[str, str]:
        return (str(self.user_id) if self.user_id else "", "system" if self.system else "")


NOBODY = RowScope()
SYSTEM = RowScope(system=True)

_SCOPE: ContextVar[RowScope] = ContextVar("oneenglish.row_scope", default=NOBODY)


def current() -> RowScope:
    return _SCOPE.get()


def install(engine: AsyncEngine, *, per_transaction: bool = False) -> None:
    """Every connection the engine hands out carries the current scope; `per_transaction`
    (behind a transaction pooler): every transaction begun on it does."""
    if per_transaction:
        _PER_TRANSACTION.add(engine.sync_engine)
        event.listen(engine.sync_engine, "begin", _apply_on_begin)
    else:
        event.listen(engine.sync_engine, "checkout", _apply_on_checkout)


def _apply_on_begin(conn: Connection) -> None:
    # On the driver's connection: SQLAlchemy's is inside its own begin() here. The statement
    # makes the driver send its BEGIN first, so the settings are the transaction's.
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    settings = _SCOPE.get().settings()
    try:
        cursor.execute(_APPLY_LOCAL, settings)
    except conn.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy reports a failed statement: a lost connection is invalidated (the
        # pool replaces it) and the error classifies as an outage (the request's 503).
        lost = conn.dialect.is_disconnect(exc, dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            _APPLY_LOCAL,
            settings,
            exc,
            conn.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
        ) from exc
    finally:
        cursor.close()


def _apply_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    driver: asyncpg.Connection = dbapi_connection.driver_connection
    try:
        await_(driver.execute(_APPLY, *_SCOPE.get().settings()))
    except (
        OSError,
        TimeoutError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        asyncpg.PostgresError,
    ) as exc:
        # Two set_config calls fail only with their connection: one that died while idle (a
        # server restart kills them all). The pool drops them and tries again with a new one;
        # a server that is down fails that connect, which is the request's 503.
        raise InvalidatePoolError(str(exc)) from exc


async def _apply_now(db: AsyncSession) -> None:
    """If the session holds a connection already, give it the new scope now."""
    if db.sync_session.get_transaction() is None:
        return  # the next checkout applies it
    connection = await db.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is not None:
        local = connection.sync_engine in _PER_TRANSACTION
        await driver.execute(_APPLY_LOCAL if local else _APPLY, *_SCOPE.get().settings())


async def act_as(db: AsyncSession, user_id: uuid.UUID) -> None:
    """From here on in this request, the database shows `user_id`'s own rows (authentication,
    and login once the password has been checked). Never narrows a system scope."""
    if _SCOPE.get().system:
        return
    _SCOPE.set(RowScope(user_id))
    await _apply_now(db)


async def elevate(db: AsyncSession) -> None:
    """From here on in this request, every row: only where the caller's RBAC check (or the
    credential itself, such as a refresh token's hash) has already allowed the operation."""
    if _SCOPE.get().system:
        return
    _SCOPE.set(RowScope(_SCOPE.get().user_id, system=True))
    await _apply_now(db)


def system_context() -> contextvars.Context:
    """A copy of the current context in the system scope, for a background task."""
    context = contextvars.copy_context()
    context.run(_SCOPE.set, SYSTEM)
    return context


@contextlib.asynccontextmanager
async def elevated(db: AsyncSession) -> AsyncIterator[None]:
    """Every row for the statements inside only, then the caller's scope again: for a check
    that must see another user's row to answer a yes-or-no question about the caller (do these
    two people share a course?) and returns nothing else."""
    previous = _SCOPE.get()
    if previous.system:
        yield
        return
    await db.connection()  # so that the scope is applied to the connection these use
    _SCOPE.set(RowScope(previous.user_id, system=True))
    await _apply_now(db)
    try:
        yield
    finally:
        _SCOPE.set(previous)
        await _apply_now(db)


@contextlib.contextmanager
def system() -> Iterator[None]:
    """For code that acts for everyone outside a request: the relay, jobs, the command line."""
    token = _SCOPE.set(SYSTEM)
    try:
        yield
    finally:
        _SCOPE.reset(token)
