"""Real-database fixtures: a PostgreSQL and a FerretDB started for the test run by the project's
own stack manager, migrated with the project's own migrations. Nothing is mocked."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from oneenglish.app import create_app
from oneenglish.bootstrap import seed_rbac
from oneenglish.cli import run_migrations
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack

REPO = Path(__file__).resolve().parents[1]
# Lets two checkouts run their suites at once on one machine (each its own ports and data).
PORT_OFFSET = int(os.environ.get("TEST_PORT_OFFSET", "0"))


def make_settings(name: str, pg_port: int, mongo_port: int, **overrides: object) -> Settings:
    """Settings for a test stack. Never read from .env: tests truncate what they touch."""
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": REPO / ".data" / name,
        "local_postgres_port": pg_port,
        "local_mongodb_port": mongo_port,
        "mongodb_database": "oneenglish_test",
        "log_level": "WARNING",
        "health_timeout": 2.0,
        "mongodb_server_selection_timeout": 2.0,
    }
    # A test run may target external servers explicitly (never implicitly via DATABASE_URL).
    if os.environ.get("TEST_DATABASE_URL"):
        values["database_url"] = os.environ["TEST_DATABASE_URL"]
    if os.environ.get("TEST_MONGODB_URL"):
        values["mongodb_url"] = os.environ["TEST_MONGODB_URL"]
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings("test", 55433 + PORT_OFFSET, 57018 + PORT_OFFSET)


@pytest.fixture(scope="session")
def fault_settings() -> Settings:
    """A second stack that fault-injection tests kill and restart, so no other test notices."""
    return make_settings(
        "test-faults", 55434 + PORT_OFFSET, 57019 + PORT_OFFSET, health_timeout=1.5
    )


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
def stack(settings: Settings) -> Iterator[Stack]:
    stack = Stack(settings, durable=False)
    stack.up()
    try:
        yield stack
    finally:
        stack.down(only_started=True)


@pytest.fixture(scope="session")
def migrated(stack: Stack, settings: Settings) -> Settings:
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


async def _truncate_all(app: FastAPI) -> None:
    async with app.state.engine.begin() as conn:
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
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


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
            # another order than TRUNCATE's table locks: PostgreSQL breaks the deadlock.
            if "deadlock" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.2)
    database = app.state.mongo_db
    for name in await database.list_collection_names():
        await database[name].delete_many({})
    await seed_rbac(app.state.sessionmaker)
