"""Direct connections to the bench databases, for the loader and the floor.

Separate pools from the API's: asyncpg without SQLAlchemy, and PyMongo's async client with the
options the application uses (so documents decode the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from pymongo import AsyncMongoClient

from oneenglish.db import mongo
from oneenglish.db.postgres import tls_context
from oneenglish.settings import LOCAL_MONGO_USER, Settings
from oneenglish.stack.manager import FERRETDB_BACKING_DATABASE


@dataclass(frozen=True)
class Databases:
    pool: asyncpg.Pool
    mongo: mongo.Database
    settings: Settings


def asyncpg_dsn(settings: Settings) -> str:
    """The owner's: the loaders make tables of their own and the clean-ups delete what the
    application's role may not (db/privileges.py); the floor's statements cost the same."""
    return settings.migration_postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.asynccontextmanager
async def open_databases(settings: Settings, pool_size: int) -> AsyncIterator[Databases]:
    pool = await asyncpg.create_pool(
        asyncpg_dsn(settings),
        min_size=pool_size,
        max_size=pool_size,
        # The floor and the data loaders act for everyone, under the API's own role: Row
        # Level Security (db/rls.py) admits every row to the system scope.
        server_settings={"application_name": "oneenglish-bench", "app.scope": "system"},
        ssl=tls_context(settings),
    )
    client: AsyncMongoClient[mongo.MongoDocument] = AsyncMongoClient(
        settings.mongo_url,
        # Up to two reads per operation run at once (profile and settings): never queue for a
        # connection where the API, with its pool per worker, would not.
        maxPoolSize=max(settings.mongodb_max_pool_size, 2 * pool_size),
        tz_aware=True,
        uuidRepresentation="standard",
        appname="oneenglish-bench",
        tlsCAFile=str(settings.mongo_ca_file) if settings.mongo_ca_file else None,
    )
    try:
        yield Databases(pool, client[settings.mongodb_database], settings)
    finally:
        await asyncio.gather(pool.close(), client.close())


async def vacuum(settings: Settings) -> None:
    """VACUUM ANALYZE the application's database and FerretDB's backing one.

    FerretDB 1.24 scans a collection's whole table for every query, dead rows included: after
    a wipe and a load, scans would be slower than the live data warrants until autovacuum
    came by, and results would depend on the order of the runs."""
    # As each database's owner (VACUUM needs it): the application's, and FerretDB's role.
    ferretdb = (
        f"postgresql://{LOCAL_MONGO_USER}:{settings.local_password(LOCAL_MONGO_USER)}"
        f"@127.0.0.1:{settings.local_postgres_port}/{FERRETDB_BACKING_DATABASE}"
    )
    for dsn in (asyncpg_dsn(settings), ferretdb):
        conn = await asyncpg.connect(dsn, ssl=tls_context(settings))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
