"""create_app(): routers, middleware, error handlers and lifespan — nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from oneenglish.accounts.router import router as accounts_router
from oneenglish.achievements.router import router as achievements_router
from oneenglish.activity.middleware import ActivityMiddleware
from oneenglish.activity.router import router as activity_router
from oneenglish.activity.service import ActivityLog
from oneenglish.audit.router import router as audit_router
from oneenglish.auth.router import router as auth_router
from oneenglish.blocks.router import router as blocks_router
from oneenglish.bootstrap import bootstrap
from oneenglish.chat.router import MAX_BODY as CHAT_MAX_BODY
from oneenglish.chat.router import router as chat_router
from oneenglish.core import docs, metrics
from oneenglish.core.logging import configure_logging, get_logger
from oneenglish.core.middleware import (
    InputGuardMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from oneenglish.core.problems import PROBLEM_RESPONSES, register_problem_handlers
from oneenglish.courses.router import router as courses_router
from oneenglish.db import encryption, mongo, rls
from oneenglish.db.replicas import Replicas
from oneenglish.enrollments.router import router as enrollments_router
from oneenglish.error_logs.router import router as error_logs_router
from oneenglish.error_logs.service import ErrorLog
from oneenglish.files.router import router as files_router
from oneenglish.health.router import router as health_router
from oneenglish.jobs.digests import send_digests_forever
from oneenglish.jobs.orders import expire_orders_forever
from oneenglish.jobs.retention import purge_logs_forever
from oneenglish.lessons.router import router as lessons_router
from oneenglish.notifications.router import router as notifications_router
from oneenglish.payments.router import router as payments_router
from oneenglish.profiles.router import router as profiles_router
from oneenglish.rbac.router import permissions_router, roles_router
from oneenglish.realtime.hub import Hub
from oneenglish.realtime.router import router as realtime_router
from oneenglish.reports.router import router as reports_router
from oneenglish.resources import open_resources
from oneenglish.settings import Settings, get_settings
from oneenglish.user_settings.router import router as user_settings_router
from oneenglish.users.router import router as users_router
from oneenglish.workflows import live_users

log = get_logger("oneenglish.app")

STARTUP_RETRY_SECONDS = 5.0
BODY_LIMITS = {"/api/chat/": CHAT_MAX_BODY}
# Uploads stream to storage and are bounded by their route (core/uploads.py).
STREAMED_BODIES = frozenset({"/api/files"})

ROUTERS = (
    health_router,
    auth_router,
    accounts_router,
    users_router,
    profiles_router,
    user_settings_router,
    courses_router,
    lessons_router,
    enrollments_router,
    chat_router,
    blocks_router,
    notifications_router,
    achievements_router,
    roles_router,
    permissions_router,
    activity_router,
    audit_router,
    error_logs_router,
    reports_router,
    payments_router,
    files_router,
    realtime_router,
)


async def _until_done(name: str, step: Callable[[], Awaitable[object]]) -> None:
    """A database may be down at start-up; the API still starts (readiness says 503) and the
    step is retried in the background until it succeeds."""
    while True:
        try:
            await step()
            return
        except Exception as exc:  # retried until it works; every failure is logged
            log.warning("start-up step failed; retrying", step=name, error=str(exc))
            await asyncio.sleep(STARTUP_RETRY_SECONDS)


async def _start_up(steps: dict[str, Callable[[], Awaitable[object]]]) -> list[asyncio.Task[None]]:
    """Run each step once before serving; any that fails keeps retrying in the background."""
    pending: list[asyncio.Task[None]] = []
    for name, step in steps.items():
        try:
            await step()
        except Exception as exc:  # the background retry logs and handles it
            log.warning("start-up step failed; will retry", step=name, error=str(exc))
            pending.append(asyncio.create_task(_until_done(name, step)))
    return pending


async def _check_keys(cipher: encryption.FieldCipher) -> None:
    await cipher.ensure_index()
    await cipher.verify()


def _lifespan(
    settings: Settings, activity_log: ActivityLog, error_log: ErrorLog
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.settings = settings
            app.state.engine = resources.engine
            app.state.sessionmaker = resources.sessionmaker
            app.state.mongo_client = resources.mongo_client
            app.state.mongo_db = resources.mongo_db
            app.state.saga_runner = resources.runner
            app.state.field_cipher = resources.cipher
            app.state.stripe = resources.stripe
            app.state.replicas = resources.replicas
            app.state.realtime_hub = hub = Hub(resources.sessionmaker, settings, resources.fanout)
            guard = live_users.batch_guard(resources.sessionmaker)
            activity_log.start(resources.mongo_db, guard)
            error_log.start(resources.mongo_db, guard)
            tasks = await _start_up(
                {
                    "mongodb indexes": lambda: mongo.ensure_indexes(resources.mongo_db),
                    "field encryption keys": lambda: _check_keys(resources.cipher),
                    "bootstrap": lambda: bootstrap(resources),
                }
            )
            # Recovery at start-up and whenever a commit enqueues a saga or an event.
            # They act for everyone: every row (db/rls.py).
            tasks.append(
                asyncio.create_task(resources.runner.relay_forever(), context=rls.system_context())
            )
            tasks.append(
                asyncio.create_task(
                    purge_logs_forever(resources.mongo_db, settings, resources.sessionmaker),
                    context=rls.system_context(),
                )
            )
            tasks.append(
                asyncio.create_task(
                    send_digests_forever(resources.sessionmaker, resources.mongo_db, settings),
                    context=rls.system_context(),
                )
            )
            tasks.append(
                asyncio.create_task(
                    expire_orders_forever(resources.sessionmaker, settings),
                    context=rls.system_context(),
                )
            )
            if resources.replicas is not None:
                tasks.append(asyncio.create_task(resources.replicas.watch_forever()))
            # The WebSockets' fan-out listener, delivery and session checks (realtime/hub.py).
            tasks.append(asyncio.create_task(hub.run(), context=rls.system_context()))
            metrics.forget_dead_workers(settings.prometheus_multiproc_dir)
            metrics.WORKERS.set(1)
            tasks.append(
                asyncio.create_task(
                    metrics.sample_forever(
                        _gauges(resources.engine, activity_log, error_log, hub, resources.replicas),
                        settings.metrics_sample_seconds,
                    )
                )
            )
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                # What the last requests recorded is written before the connections close.
                await asyncio.gather(activity_log.stop(), error_log.stop())

    return lifespan


def _gauges(
    engine: AsyncEngine,
    activity_log: ActivityLog,
    error_log: ErrorLog,
    hub: Hub,
    replicas: Replicas | None,
) -> list[metrics.Sample]:
    """What the metrics sampler reads from this process every METRICS_SAMPLE_SECONDS."""
    pool = engine.sync_engine.pool

    def pool_usage() -> None:
        checked_out = pool.checkedout()  # type: ignore[attr-defined]
        checked_in = pool.checkedin()  # type: ignore[attr-defined]
        metrics.POOL_CONNECTIONS.labels("app", "checked_out").set(checked_out)
        metrics.POOL_CONNECTIONS.labels("app", "open").set(checked_out + checked_in)

    def log_queues() -> None:
        for writer in (activity_log.writer, error_log.writer):
            metrics.LOG_QUEUE_DEPTH.labels(writer.name).set(writer.pending)

    def websockets() -> None:
        metrics.WEBSOCKETS.set(len(hub.connections))

    def replica_states() -> None:
        for state in replicas.states if replicas is not None else []:
            metrics.REPLICA_USABLE.labels(state.name).set(1 if state.usable else 0)
            if state.lag_seconds is not None:
                metrics.REPLICA_LAG.labels(state.name).set(state.lag_seconds)

    return [pool_usage, log_queues, websockets, replica_states]


def _add_middleware(app: FastAPI, settings: Settings, activity_log: ActivityLog) -> None:
    """Innermost first: the last added runs first."""
    app.add_middleware(
        InputGuardMiddleware,
        default=settings.max_request_body_bytes,
        limits=BODY_LIMITS,
        streamed=STREAMED_BODIES,
    )
    app.add_middleware(ActivityMiddleware, activity_log=activity_log)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Location"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs.DOCS_PATHS)
    # Counts every answer, the guard's 413s and 422s included, by the route that matched.
    app.add_middleware(metrics.MetricsMiddleware)
    # Every response, even a 413, carries the request id, and the request id is bound before
    # activity is timed.
    app.add_middleware(
        RequestContextMiddleware,
        read_after_seconds=math.ceil(settings.replica_max_lag_seconds) + 1,
    )
    if settings.forwarded_allow_ips:
        # Outermost: the client address and scheme every later layer sees are the ones a
        # trusted proxy reported; anyone else's X-Forwarded-For is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    # Created before the lifespan so the middleware and the error handler hold them; their
    # writer tasks start once MongoDB's handle exists.
    activity_log = ActivityLog(settings)
    error_log = ErrorLog(settings)
    app = FastAPI(
        title="OneEnglish API",
        version="0.1.0",
        description=(
            "English-learning platform API. Structured data lives in PostgreSQL, flexible "
            "documents in MongoDB. Every error is `application/problem+json` (RFC 9457)."
        ),
        lifespan=_lifespan(settings, activity_log, error_log),
        responses=PROBLEM_RESPONSES,
        # Served by core/docs.py from the API itself, not from a CDN.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=docs.OAUTH2_REDIRECT_URL,
        # No OpenTelemetry is configured; without this FastAPI looks for a provider (and reads
        # the environment) on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.activity_log = activity_log
    app.state.error_log = error_log
    docs.install(app)
    _add_middleware(app, settings, activity_log)
    register_problem_handlers(app, on_unhandled=error_log.capture)
    for router in ROUTERS:
        app.include_router(router)
    return app
