"""Alembic environment: async engine from the application's settings."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from oneenglish import models
from oneenglish.db.postgres import Base, connect_args
from oneenglish.settings import Settings, get_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("settings"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

models.load_all()
target_metadata = Base.metadata


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else get_settings()


def run_migrations_offline() -> None:
    context.configure(
        url=_settings().migration_postgres_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # As the owner of every object (MIGRATION_DATABASE_URL): the application's role has no DDL.
    settings = _settings()
    engine = create_async_engine(
        settings.migration_postgres_url,
        connect_args={**connect_args(settings, "oneenglish-migrate"), "command_timeout": None},
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
