"""The local stack's database-level controls, on the real servers: TLS only, verified in full;
FerretDB refuses anonymous clients; pgaudit writes DDL to the server log."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError

from oneenglish.db.postgres import tls_context
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack
from oneenglish.stack.tls import LocalTLS
from tests.helpers import eventually


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_postgresql_refuses_a_plain_text_connection(migrated: Settings) -> None:
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await asyncpg.connect(dsn(migrated.postgres_url), ssl=False)


async def test_postgresql_is_verified_against_the_stack_ca(migrated: Settings) -> None:
    conn = await asyncpg.connect(dsn(migrated.postgres_url), ssl=tls_context(migrated))
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    finally:
        await conn.close()


async def test_a_server_certified_by_another_ca_is_refused(
    migrated: Settings, tmp_path: Path
) -> None:
    stranger = LocalTLS(tmp_path / "other-ca")
    stranger.ensure()
    elsewhere = migrated.model_copy(update={"database_sslrootcert": stranger.ca_file})
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncpg.connect(dsn(migrated.postgres_url), ssl=tls_context(elsewhere))


@contextlib.asynccontextmanager
async def tls_server(cert: Path, key: Path) -> AsyncIterator[int]:
    """A TLS listener on loopback that presents the given certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_certificate_for_another_host_fails_verification(
    stack: Stack, migrated: Settings, tmp_path: Path
) -> None:
    """Signed by the trusted CA, but for another name: both clients refuse it."""
    cert, key = tmp_path / "wrong.pem", tmp_path / "wrong-key.pem"
    stack.tls.issue(cert, key, ("db.example.com",), ("192.0.2.10",))
    async with tls_server(cert, key) as port:
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            await asyncio.open_connection("127.0.0.1", port, ssl=tls_context(migrated))
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            f"mongodb://127.0.0.1:{port}/",
            tlsCAFile=str(migrated.mongo_ca_file),
            serverSelectionTimeoutMS=1500,
        )
        try:
            with pytest.raises(ServerSelectionTimeoutError, match=r"mismatch|certificate verify"):
                await client.admin.command("ping")
        finally:
            await client.close()


async def test_ferretdb_refuses_a_plain_text_client(migrated: Settings) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{migrated.local_mongodb_port}/", serverSelectionTimeoutMS=1500
    )
    try:
        with pytest.raises(PyMongoError):
            await client.admin.command("ping")
    finally:
        await client.close()


@pytest.mark.parametrize("password", [None, "not-the-password"])
async def test_ferretdb_refuses_clients_without_valid_credentials(
    migrated: Settings, password: str | None
) -> None:
    credentials = (
        {"username": "oneenglish_mongo", "password": password, "authMechanism": "PLAIN"}
        if password
        else {}
    )
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{migrated.local_mongodb_port}/",
        tlsCAFile=str(migrated.mongo_ca_file),
        serverSelectionTimeoutMS=1500,
        **credentials,  # type: ignore[arg-type]
    )
    database = client[migrated.mongodb_database]
    try:
        with pytest.raises(OperationFailure, match="authentication failed"):
            await database.user_profiles.find_one({})
        with pytest.raises(OperationFailure, match="authentication failed"):
            await database.probes.insert_one({"_id": str(uuid.uuid4())})
        with pytest.raises(OperationFailure, match="authentication failed"):
            await client.list_database_names()
    finally:
        await client.close()


async def test_ddl_lands_in_the_audit_log(stack: Stack, migrated: Settings) -> None:
    table = f"audit_probe_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(dsn(migrated.migration_postgres_url), ssl=tls_context(migrated))
    try:
        await conn.execute(f"CREATE TABLE {table} (a integer); DROP TABLE {table}")
    finally:
        await conn.close()

    async def audited() -> bool:
        log = stack.postgres.log_file.read_text(errors="replace")
        return "AUDIT: SESSION" in log and f"CREATE TABLE,TABLE,public.{table}" in log

    assert await eventually(audited, attempts=50)
