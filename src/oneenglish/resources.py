"""The connections a process needs, opened and closed together: by the API's lifespan and by
the CLI commands that work on the databases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pymongo import AsyncMongoClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from oneenglish import models, workflows
from oneenglish.core.security import configure_hashing
from oneenglish.db import encryption, mongo, postgres, sharding
from oneenglish.db.replicas import TRACK_POSITIONS, Replicas
from oneenglish.payments.provider import Stripe
from oneenglish.realtime.fanout import Fanout, open_fanout
from oneenglish.sagas.runner import SagaRunner
from oneenglish.settings import Settings
from oneenglish.users import service as users


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    replicas: Replicas | None
    mongo_client: AsyncMongoClient[mongo.MongoDocument]
    mongo_db: mongo.Database
    runner: SagaRunner
    cipher: encryption.FieldCipher
    fanout: Fanout  # how real-time events reach every API process (realtime/fanout.py)
    stripe: Stripe  # the payments provider's client (payments/provider.py)


@contextlib.asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    models.load_all()
    workflows.load_all()
    configure_hashing(
        settings.password_hash_threads,
        settings.workers,
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
    )
    engine = postgres.create_engine(settings)
    client = mongo.create_client(settings)
    replicas = Replicas(settings, engine) if settings.postgres_replica_urls else None
    # With replicas, a request that wrote answers with the primary's WAL position after it.
    sessionmaker = postgres.create_sessionmaker(
        engine, info={TRACK_POSITIONS: True} if replicas else None
    )
    fanout = open_fanout(settings, sessionmaker)
    database = client[settings.mongodb_database]
    cipher = encryption.open_cipher(
        client,
        settings.key_vault_namespace,
        settings.field_master_key,
        cache_seconds=settings.field_encryption_key_cache_seconds,
    )
    encryption.bind(database, cipher)
    sharding.bind_read_preference(database, settings.mongodb_read_mostly_preference)
    stripe = Stripe(settings)
    try:
        yield Resources(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            mongo_client=client,
            mongo_db=database,
            runner=SagaRunner(sessionmaker, database, settings, users.lock_live_users),
            cipher=cipher,
            fanout=fanout,
            stripe=stripe,
            replicas=replicas,
        )
    finally:
        await cipher.close()
        await asyncio.gather(engine.dispose(), client.close(), fanout.close(), stripe.close())
        if replicas is not None:
            await replicas.dispose()
