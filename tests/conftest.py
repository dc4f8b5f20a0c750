"""Real-database fixtures: a PostgreSQL and a FerretDB started for the test run by the project's
own stack manager, migrated with the project's own migrations. Nothing is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from oneenglish.app import create_app
from oneenglish.bootstrap import seed_rbac
from oneenglish.cli import run_migrations
from oneenglish.db import postgres
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack
from tests.factories import TestUser, logged_in

pytest_plugins = ["tests.browser"]

REPO = Path(__file__).resolve().parents[1]
# Lets two checkouts run their suites at once on one machine (each its own ports and data).
PORT_OFFSET = int(os.environ.get("TEST_PORT_OFFSET", "0"))
# pytest-xdist's worker ("gw0", "gw1", …; empty when the suite runs in one process). Workers
# share the test servers and each has databases of its own on them, made by the migrations.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER.removeprefix("gw") or 0)
# Below Linux's ephemeral range (32768–60999): a port in it can be taken at any moment as the
# local end of some outgoing connection, and a server restarted by a fault test then cannot
# bind it, though nothing listens there.
TEST_PORTS = (25433 + PORT_OFFSET, 27018 + PORT_OFFSET)
# Fault tests kill and restart servers of their own: one such stack per worker.
FAULT_PORTS = (25534 + PORT_OFFSET + WORKER_INDEX, 27119 + PORT_OFFSET + WORKER_INDEX)


def per_worker(name: str) -> str:
    return f"{name}_{WORKER}" if WORKER else name


def _test_stack() -> Stack:
    database = per_worker("oneenglish_test")
    return Stack(
        make_settings(
            "test", *TEST_PORTS, local_postgres_database=database, mongodb_database=database
        ),
        durable=False,
    )


@contextlib.contextmanager
def _stack_lock() -> Iterator[None]:
    """One worker at a time starts or checks the shared servers."""
    lock = REPO / ".data" / "test.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def pytest_configure(config: pytest.Config) -> None:
    # The controller (or the only process) remembers whether the test servers were running,
    # so that at the end it stops them only if this run started them.
    if not hasattr(config, "workerinput"):
        config.stash[_SERVERS_WERE_RUNNING] = _test_stack().postgres.pid() is not None


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.stash.get(_SERVERS_WERE_RUNNING, True):
        return
    _test_stack().down()


_SERVERS_WERE_RUNNING = pytest.StashKey[bool]()


def make_settings(name: str, pg_port: int, mongo_port: int, **overrides: object) -> Settings:
    """Settings for a test stack. Never read from .env: tests truncate what they touch."""
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": REPO / ".data" / name,
        "local_postgres_port": pg_port,
        "local_mongodb_port": mongo_port,
        # The stack's Mailpit, beside its PostgreSQL (a stack of its own, its own Mailpit).
        "local_smtp_port": 20000 + pg_port % 5000,
        "local_mailpit_ui_port": 21000 + pg_port % 5000,
        # Its Redis, started only for the tests of the Redis fan-out (redis_settings).
        "local_redis_port": 22000 + pg_port % 5000,
        # Its stripe-mock (Stripe's API mock), for the payments tests.
        "local_stripe_mock_port": 23000 + pg_port % 5000,
        # Its PgBouncer, in front of it when TEST_PGBOUNCER=1 (`make test-pooled`).
        "local_pgbouncer": os.environ.get("TEST_PGBOUNCER") == "1",
        "local_pgbouncer_port": 24000 + pg_port % 5000,
        "mongodb_database": "oneenglish_test",
        "log_level": "WARNING",
        "health_timeout": 2.0,
        "mongodb_server_selection_timeout": 2.0,
        # Argon2 at its production cost was 64 % of the suite's time; tests that need a real
        # cost (the rehash on login, the production floor) set it themselves.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
    }
    # A test run may target external servers explicitly (never implicitly via DATABASE_URL).
    if os.environ.get("TEST_DATABASE_URL"):
        values["database_url"] = os.environ["TEST_DATABASE_URL"]
    if os.environ.get("TEST_MONGODB_URL"):
        values["mongodb_url"] = os.environ["TEST_MONGODB_URL"]
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return _test_stack().settings


@pytest.fixture(scope="session")
def fault_settings() -> Settings:
    """A second stack that fault-injection tests kill and restart, so no other test notices."""
    return make_settings(per_worker("test-faults"), *FAULT_PORTS, health_timeout=1.5)


@pytest.fixture(scope="session")
def fault_stack(fault_settings: Settings) -> Iterator[Stack]:
    stack = Stack(fault_settings, durable=False)
    stack.up()
    run_migrations(fault_settings)
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Stack:
    """The shared test servers, running, with this worker's databases on them (stopped at the
    end by pytest_unconfigure, if this run started them)."""
    stack = Stack(settings, durable=False)
    with _stack_lock():
        stack.up()
    return stack


@pytest.fixture(scope="session")
def redis_settings(migrated: Settings) -> Settings:
    """The shared test settings with the real-time fan-out through the stack's own Redis,
    started here (and stopped with the other servers at the end)."""
    with_redis = migrated.model_copy(update={"local_redis": True})
    with _stack_lock():
        Stack(with_redis, durable=False).redis.start()
    return with_redis


@pytest.fixture(scope="session")
def migrated(stack: Stack, settings: Settings) -> Settings:
    # Index and collection creation on FerretDB's backend takes a process-wide lock: one
    # worker at a time.
    with _stack_lock():
        run_migrations(settings)
    return settings


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(migrated)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
async def _clean_databases(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts from migrated, empty databases (plus the seed data migrations add)."""
    yield
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    await reset_databases(app)


_OWNER_ENGINES: dict[str, AsyncEngine] = {}


def owner_engine(settings: Settings) -> AsyncEngine:
    """The owner's engine, one per database: for what the application's role may not do
    (TRUNCATE between tests, a test's own DDL). Pre-pinged: fault tests restart the server."""
    url = settings.migration_postgres_url
    if url not in _OWNER_ENGINES:
        _OWNER_ENGINES[url] = create_async_engine(
            url, pool_pre_ping=True, connect_args=postgres.connect_args(settings, "tests")
        )
    return _OWNER_ENGINES[url]


async def _truncate_all(app: FastAPI) -> None:
    async with owner_engine(app.state.settings).begin() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            # Not the driver's 30 s command timeout (a bare TimeoutError that names nobody):
            # a lock wait that long fails here, and the last attempt says who holds it.
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def _lock_holders(app: FastAPI) -> str:
    async with owner_engine(app.state.settings).connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid, usename, application_name, state, left(query, 120) AS query "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        )
        return "; ".join(str(dict(row._mapping)) for row in rows)


async def reset_databases(app: FastAPI) -> None:
    # Activity and error-log entries are written in the background: write out what is queued
    # first, so nothing from this test lands after the clean-up and leaks into the next one.
    await asyncio.gather(app.state.activity_log.flush(), app.state.error_log.flush())
    for attempt in range(5):
        try:
            await _truncate_all(app)
            break
        except DBAPIError as exc:
            # The relay or a log writer of a process still running holds row locks, taken in
            # another order than TRUNCATE's table locks: PostgreSQL breaks the deadlock, or
            # the wait ends at the lock timeout.
            if "deadlock" not in str(exc) and "lock timeout" not in str(exc):
                raise
            if attempt == 4:
                holders = await _lock_holders(app)
                raise RuntimeError(f"TRUNCATE kept waiting for: {holders}") from exc
            await asyncio.sleep(0.2)
    database = app.state.mongo_db
    for name in await database.list_collection_names():
        await database[name].delete_many({})
    # The key vault is a database of its own (db/encryption.py): its users are gone too.
    await app.state.field_cipher.vault.delete_many({})
    await seed_rbac(app.state.sessionmaker)


# -- people: users with roles, logged in --------------------------------------------------


@pytest.fixture
async def learner(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


@pytest.fixture
async def teacher(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("teacher",))


@pytest.fixture
async def other_teacher(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("teacher",))


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("admin",))


@pytest.fixture
async def alice(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


@pytest.fixture
async def bob(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each phase's report on the test item (rep_setup, rep_call): the browser fixtures save a
    screenshot when the test itself failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
