"""create_app(): routers, middleware, error handlers and lifespan — nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from oneenglish import models
from oneenglish.core.logging import configure_logging, get_logger
from oneenglish.core.middleware import RequestContextMiddleware
from oneenglish.core.problems import PROBLEM_RESPONSES, register_problem_handlers
from oneenglish.db import mongo, postgres
from oneenglish.health.router import router as health_router
from oneenglish.settings import Settings, get_settings

log = get_logger("oneenglish.app")

INDEX_RETRY_SECONDS = 5.0


async def _ensure_indexes_until_done(database: mongo.Database) -> None:
    """MongoDB may be down at start-up; the API still starts and keeps trying in the background."""
    while True:
        try:
            await mongo.ensure_indexes(database)
            return
        except Exception as exc:  # retried until it works; every failure is logged
            log.warning("mongodb index bootstrap failed; retrying", error=str(exc))
            await asyncio.sleep(INDEX_RETRY_SECONDS)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    models.load_all()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = postgres.create_engine(settings)
        client = mongo.create_client(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = postgres.create_sessionmaker(engine)
        app.state.mongo_client = client
        app.state.mongo_db = client[settings.mongodb_database]
        index_task = asyncio.create_task(_ensure_indexes_until_done(app.state.mongo_db))
        try:
            yield
        finally:
            index_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await index_task
            await asyncio.gather(engine.dispose(), client.close())

    app = FastAPI(
        title="OneEnglish API",
        version="0.1.0",
        description=(
            "English-learning platform API. Structured data lives in PostgreSQL, flexible "
            "documents in MongoDB. Every error is `application/problem+json` (RFC 9457)."
        ),
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    app.add_middleware(RequestContextMiddleware)
    register_problem_handlers(app)
    app.include_router(health_router)
    return app
