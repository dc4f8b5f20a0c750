"""PostgreSQL: the engine, the per-request session and the declarative base."""

from __future__ import annotations

import dataclasses
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData, TextClause, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as _PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

from oneenglish.core import metrics
from oneenglish.core.context import note_session, note_write_sent, note_writes_committed
from oneenglish.db import rls
from oneenglish.settings import Settings

# Stable constraint names, so that migrations can refer to them and errors can be mapped.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Server-generated values (ids, timestamps) come back in the INSERT's RETURNING clause,
    # not in a second SELECT.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - read once by SQLAlchemy


def tls_context(settings: Settings) -> ssl.SSLContext | bool:
    """asyncpg's `ssl` argument for DATABASE_SSLMODE, with libpq's meanings: verify-full checks
    the chain against DATABASE_SSLROOTCERT (or the system's CAs) and the host name; verify-ca
    the chain only; require encrypts without checking who answers; disable sends plain text."""
    mode = settings.database_sslmode
    if mode == "disable":
        return False
    ca_file = settings.postgres_ca_file
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if mode == "verify-full":
        return context
    context.check_hostname = False
    if mode == "require":
        context.verify_mode = ssl.CERT_NONE
    return context


def connect_args(
    settings: Settings, application_name: str = "oneenglish", *, pooled: bool = False
) -> dict[str, Any]:
    """asyncpg's connection arguments for this application's engines. `pooled`: through a
    transaction pooler (PgBouncer 1.18, which knows nothing of prepared statements), where
    consecutive transactions of one connection may run on different server connections: no
    statement is kept prepared (asyncpg's cache and SQLAlchemy's off), and those prepared for
    one execution are unnamed, so no name of one client can collide with another's on a shared
    server connection, and none is left behind there (asyncpg re-parses an unnamed statement
    in the same round trip as its execution when its cache is off)."""
    args: dict[str, Any] = {
        "timeout": settings.health_timeout,
        "command_timeout": 30,
        "server_settings": {"application_name": application_name},
        "ssl": tls_context(settings),
    }
    if pooled:
        args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unnamed,
        }
    return args


def _unnamed() -> str:
    return ""


def create_engine(
    settings: Settings,
    *,
    url: str | None = None,
    application_name: str = "oneenglish",
    pre_ping: bool = False,
    pooled: bool | None = None,
) -> AsyncEngine:
    """The application's engine; `url` another role's (the owner's, for migrations) or a read
    replica's (db/replicas.py, which pings a connection at checkout to fall back at once).
    `pooled` (default: the application's own URL goes through a pooler) keeps no state on a
    connection between transactions (connect_args, db/rls.py)."""
    if pooled is None:
        pooled = url is None and settings.pooled
    engine = create_async_engine(
        url or settings.postgres_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # No pre-ping round trip per checkout: a dead connection raises a disconnect error,
        # which invalidates the whole pool, so the next checkout reconnects.
        pool_pre_ping=pre_ping,
        # A failed statement's message never carries its parameters (password hashes, emails):
        # it goes to logs and the error log, which many operators read.
        hide_parameters=True,
        connect_args=connect_args(settings, application_name, pooled=pooled),
    )
    event.listen(engine.sync_engine, "handle_error", _broken_connection_is_a_disconnect)
    _time_statements(engine)
    if settings.database_row_security:
        rls.install(engine, per_transaction=pooled)
    return engine


_STARTED = "_oneenglish_started"


def _time_statements(engine: AsyncEngine) -> None:
    """Each statement's time, by its verb, in the metrics (core/metrics.py)."""

    def before(
        _conn: object, _cursor: object, _sql: str, _params: object, context: Any, _many: bool
    ) -> None:
        setattr(context, _STARTED, time.perf_counter())

    def after(
        _conn: object, _cursor: object, sql: str, _params: object, context: Any, _many: bool
    ) -> None:
        started = getattr(context, _STARTED, None)
        if started is not None:
            metrics.observe_db(
                "postgresql", metrics.statement_verb(sql), time.perf_counter() - started
            )

    def failed(context: ExceptionContext) -> None:
        started = getattr(context.execution_context, _STARTED, None)
        if started is not None and context.statement is not None:
            metrics.observe_db(
                "postgresql",
                metrics.statement_verb(context.statement),
                time.perf_counter() - started,
                failed=True,
            )

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)


def _broken_connection_is_a_disconnect(context: ExceptionContext) -> None:
    """A connection whose protocol state an interrupted operation left behind (asyncpg's
    "cannot switch to state …; another operation is in progress", after a cancelled query) is
    as good as lost: invalidate it, so the pool replaces it and the request gets a 503, instead
    of every later user of that connection getting a 500."""
    if isinstance(context.original_exception, asyncpg.InternalClientError):
        context.is_disconnect = True


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    # A Session class of this application's own, so that session events (the saga runner's
    # after-commit hook) are scoped to it rather than to every session in the process.
    session_class = type("AppSession", (Session,), {})
    # A COMMIT about to be sent: from here on, a lost connection leaves the outcome unknown.
    event.listen(session_class, "before_commit", _note_commit)
    # Whether the open transaction holds writes, so that release_connection can refuse to
    # roll them back (flushes, and DML statements whether built or written as text).
    event.listen(session_class, "after_flush", _note_writes)
    event.listen(session_class, "do_orm_execute", _note_dml)
    for ended in ("after_commit", "after_rollback", "after_soft_rollback"):
        event.listen(session_class, ended, _forget_writes)
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=session_class,
        info=info or {},
    )


def _note_commit(session: Session) -> None:
    note_write_sent()
    if holds_writes_sync(session):
        note_writes_committed()


_WRITES = "oneenglish.writes_in_transaction"
_WRITE_STATEMENT = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|WITH|TRUNCATE)\b", re.I)


def _note_writes(session: Session, *_: object) -> None:
    session.info[_WRITES] = True


def _note_dml(state: ORMExecuteState) -> None:
    statement = state.statement
    dml = state.is_insert or state.is_update or state.is_delete
    if dml or (isinstance(statement, TextClause) and _WRITE_STATEMENT.match(statement.text)):
        state.session.info[_WRITES] = True


def _forget_writes(session: Session, *_: object) -> None:
    session.info.pop(_WRITES, None)


def holds_writes(db: AsyncSession) -> bool:
    """Whether the session's open transaction has written anything (flushed or executed)."""
    return holds_writes_sync(db.sync_session)


def holds_writes_sync(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WRITES))


# SQLSTATE classes that mean "the server cannot serve you now", not "your statement is wrong":
# 08 connection exception, 53 insufficient resources (too many connections, disk full),
# 57 operator intervention (shutting down, "the database system is starting up", a cancelled
# statement); and the two that say "the same transaction may well succeed if retried".
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock detected


def is_unavailable(exc: DBAPIError) -> bool:
    """True when PostgreSQL failed as a service (503 and retry), not because of the statement."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if orig is None:
        return False
    if isinstance(orig, OSError | ConnectionError | TimeoutError):
        return True
    # The dialect wraps asyncpg's exception; both carry the server's SQLSTATE.
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig.__cause__, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _RETRYABLE
    return isinstance(orig.__cause__, _DISCONNECTED)


def is_outage(exc: BaseException) -> bool:
    """is_unavailable for any exception: a refused or lost connection counts too."""
    if isinstance(exc, DBAPIError):
        return is_unavailable(exc)
    return isinstance(exc, OSError | ConnectionError | TimeoutError | _PoolTimeout)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request. The request's route (core.routing.AppRoute) commits it once,
    when the endpoint returns, before the response is sent; an error rolls it back."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        note_session(session)
        yield session


async def commit_before_refusing(db: AsyncSession) -> None:
    """Keep what the request recorded about a refusal it is about to raise.

    A request's transaction is rolled back when it ends in an error; a few refusals must
    still leave a trace: a failed login's count (or the next guess would be free), a detected
    refresh-token reuse's revocation. Their services call this, by name, before raising."""
    await db.commit()


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def release_connection(db: AsyncSession) -> None:
    """End the session's read-only transaction and give its connection back to the pool, before
    slow CPU work (password hashing): a request must not pin a connection while it computes.
    Objects loaded so far are expired; read what you need from them first. Refuses (raises)
    when the transaction holds writes, flushed or not: rolling them back would lose them."""
    if holds_writes(db):
        raise RuntimeError("release_connection would roll back the writes of this transaction")
    await db.rollback()


# --- Reads on the driver --------------------------------------------------------------------
# Hand-written on purpose: the hottest reads (the principal of every request, catalogue pages,
# an account, a lesson) skip SQLAlchemy's statement compilation, ORM loading and the BEGIN /
# ROLLBACK it wraps around a session's first statement. Measured on a catalogue page (count and
# 20 rows): 1.10 ms of CPU through the ORM, 0.60 ms through `exec_driver_sql`, 0.32 ms here.
# They run on the session's own connection: inside its transaction once the session has sent a
# statement, otherwise each on its own (autocommit), so use them for reads that need no lock
# and no snapshot shared with other statements. Errors come out as SQLAlchemy's, so the
# handlers that turn a lost connection into a 503 (and invalidate the pool) apply unchanged.

Record = asyncpg.Record
T = TypeVar("T")

_DISCONNECTED = (
    OSError,
    ConnectionError,
    asyncpg.InternalClientError,  # the connection's protocol state is broken (see above)
    asyncpg.InterfaceError,  # includes "connection is closed"
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


async def fetch(db: AsyncSession, sql: str, *args: Any) -> Sequence[Record]:
    """Every row of a read; `sql` uses asyncpg's $1, $2 placeholders."""
    connection = await db.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:  # only after the connection was closed, which a session never does
        raise RuntimeError("the session's connection has no driver connection")
    started = time.perf_counter()
    try:
        rows: list[Record] = await driver.fetch(sql, *args)
    except (asyncpg.PostgresError, *_DISCONNECTED) as exc:
        metrics.observe_db("postgresql", "select", time.perf_counter() - started, failed=True)
        disconnected = isinstance(exc, _DISCONNECTED)
        if disconnected:
            await connection.invalidate(exc)
        raise DBAPIError(
            sql, args, exc, hide_parameters=True, connection_invalidated=disconnected
        ) from exc
    metrics.observe_db("postgresql", "select", time.perf_counter() - started)
    return rows


async def fetch_one(db: AsyncSession, sql: str, *args: Any) -> Record | None:
    """The first row of a read, or None."""
    rows = await fetch(db, sql, *args)
    return rows[0] if rows else None


def columns(row_type: type[Any], alias: str = "") -> str:
    """The select list of a row dataclass: its fields, quoted, in order."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{field.name}"' for field in dataclasses.fields(row_type))


async def fetch_row(db: AsyncSession, row_type: type[T], sql: str, *args: Any) -> T | None:
    """The first row of a read as `row_type` (a dataclass selected with `columns`), or None."""
    row = await fetch_one(db, sql, *args)
    return None if row is None else row_type(**row)


# -- what a user's data export covers --------------------------------------------------------

UserExport = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]


@dataclass(frozen=True)
class UserTable:
    """A table that holds rows about one user (it references users, or is deleted with a table
    that does): exported with the user's data by `export` under `name`, or left out, with the
    reason. Registered by the domain that owns it; tests/test_user_data.py fails when a table
    that references users is neither, and the export (workflows/user_account.py) runs every
    registered `export`. Erasure needs no registry here: such rows cascade with the user."""

    table: str
    name: str = ""
    export: UserExport | None = None
    excluded_because: str = ""

    def __post_init__(self) -> None:
        if (self.export is None) == (not self.excluded_because):
            raise ValueError(f"{self.table}: either an export or the reason it has none")


_USER_TABLES: dict[str, UserTable] = {}


def register_user_table(*tables: UserTable) -> None:
    for table in tables:
        _USER_TABLES[table.table] = table


def user_tables() -> list[UserTable]:
    return list(_USER_TABLES.values())
