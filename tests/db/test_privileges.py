"""Least privilege in PostgreSQL: the application's role may only read and write rows, as each
table needs; the reporting role may only read, and never secrets (db/privileges.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from oneenglish.db.postgres import tls_context
from oneenglish.db.privileges import TABLES, grant_statements
from oneenglish.settings import Settings


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def as_app(migrated: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(migrated.postgres_url), ssl=tls_context(migrated))
    yield conn
    await conn.close()


@pytest.fixture
async def as_owner(migrated: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(migrated.migration_postgres_url), ssl=tls_context(migrated))
    yield conn
    await conn.close()


@pytest.fixture
async def as_reporting(migrated: Settings) -> AsyncIterator[asyncpg.Connection]:
    assert migrated.reporting_postgres_url is not None
    conn = await asyncpg.connect(dsn(migrated.reporting_postgres_url), ssl=tls_context(migrated))
    yield conn
    await conn.close()


async def test_every_table_has_declared_privileges(as_owner: asyncpg.Connection) -> None:
    """A new table cannot ship without a decision about who may touch it."""
    tables = {
        r["tablename"]
        for r in await as_owner.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert tables == set(TABLES)


async def test_the_application_role_owns_nothing_and_is_no_superuser(
    as_app: asyncpg.Connection,
) -> None:
    owned = await as_app.fetchval(
        "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
    )
    assert owned == 0
    attributes = await as_app.fetchrow(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    )
    assert attributes is not None
    assert not any(attributes.values())


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE courses",
        "ALTER TABLE courses ADD COLUMN sneaky integer",
        "TRUNCATE users",
        "CREATE TABLE smuggled (a integer)",
        "CREATE INDEX smuggled ON users (email)",
        "DELETE FROM lesson_activity",
        "SELECT * FROM alembic_version",
        "CREATE SCHEMA smuggled",
        "CREATE ROLE smuggled LOGIN",
    ],
)
async def test_the_application_role_has_no_ddl_and_only_the_dml_each_table_needs(
    as_app: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute(statement)


async def test_the_application_role_reads_and_writes_its_tables(
    as_app: asyncpg.Connection,
) -> None:
    async with as_app.transaction():
        key = f"probe:{uuid.uuid4()}"
        await as_app.execute(
            "INSERT INTO rate_limits (key, hits, window_started_at, window_seconds) "
            "VALUES ($1, 1, now(), 60)",
            key,
        )
        await as_app.execute("UPDATE rate_limits SET hits = hits + 1 WHERE key = $1", key)
        assert await as_app.fetchval("SELECT hits FROM rate_limits WHERE key = $1", key) == 2
        await as_app.execute("DELETE FROM rate_limits WHERE key = $1", key)


async def test_another_schema_is_out_of_the_application_roles_reach(
    as_owner: asyncpg.Connection, as_app: asyncpg.Connection
) -> None:
    schema = f"other_{uuid.uuid4().hex[:8]}"
    await as_owner.execute(f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.secret (a integer)")
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_app.fetch(f"SELECT * FROM {schema}.secret")  # noqa: S608 - test's own name
    finally:
        await as_owner.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO roles (name) VALUES ('reporter-made')",
        "UPDATE users SET username = 'x'",
        "DELETE FROM courses",
        "SELECT password_hash FROM users",
        "SELECT * FROM users",
        "SELECT * FROM sagas",
        "SELECT * FROM refresh_tokens",
        "SELECT * FROM auth_sessions",
        "CREATE TABLE smuggled (a integer)",
    ],
)
async def test_the_reporting_role_only_reads_and_never_secrets(
    as_reporting: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_reporting.execute(statement)


async def test_the_reporting_role_reads_the_catalogue_and_the_users_it_may(
    as_reporting: asyncpg.Connection,
) -> None:
    await as_reporting.fetch("SELECT id, title FROM courses")
    await as_reporting.fetch("SELECT id, email, username, created_at FROM users")
    await as_reporting.fetch("SELECT * FROM enrollments")


def test_the_printed_script_names_the_roles_and_grants_no_ddl() -> None:
    script = grant_statements("app_role", "analysts")
    assert 'GRANT SELECT, INSERT, UPDATE ON public."lesson_activity" TO "app_role"' in script
    assert all("TRUNCATE" not in s and "CREATE" not in s for s in script if "GRANT" in s)
    assert any('TO "analysts"' in s and "password_hash" not in s for s in script)
