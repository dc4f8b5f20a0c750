"""Retention of the high-volume logs: activity (ACTIVITY_RETENTION_DAYS) and error logs
(ERROR_LOG_RETENTION_DAYS). Audit logs are kept forever and never touched here. The same pass
deletes PostgreSQL's short-lived rows: expired rate-limit windows, login throttles past their
reset period, idempotency keys past their 24 hours, mailed links' tokens a week past expiry.

FerretDB has no TTL indexes, so expiry is a `delete_many` by timestamp, run by a maintenance
loop in every API process (every LOG_PURGE_INTERVAL_SECONDS; the deletes are idempotent, so
several processes doing it at once is harmless) and by `oneenglish purge-logs`. On a real
MongoDB a TTL index would do the same; one code path for both is simpler."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.accounts import service as accounts
from oneenglish.activity import service as activity
from oneenglish.auth import service as auth
from oneenglish.core.logging import get_logger
from oneenglish.db.mongo import Database
from oneenglish.error_logs import service as error_logs
from oneenglish.idempotency import service as idempotency
from oneenglish.limits import service as limits
from oneenglish.realtime import service as realtime
from oneenglish.settings import Settings

log = get_logger("oneenglish.retention")


@dataclass(frozen=True)
class PurgeReport:
    activities: int
    error_logs: int
    transient_rows: int = 0


async def purge_logs(
    mongo: Database,
    settings: Settings,
    now: datetime | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> PurgeReport:
    now = now or datetime.now(UTC)
    activities, errors, rows = await asyncio.gather(
        activity.purge_older_than(mongo, settings.activity_retention_days, now),
        error_logs.purge_older_than(mongo, settings.error_log_retention_days, now),
        _purge_transient_rows(sessionmaker, settings) if sessionmaker else _nothing(),
    )
    return PurgeReport(activities=activities, error_logs=errors, transient_rows=rows)


async def _nothing() -> int:
    return 0


async def _purge_transient_rows(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    async with sessionmaker() as pg, pg.begin():
        return (
            await limits.delete_expired(pg)
            + await auth.delete_expired_throttles(pg, settings)
            + await idempotency.delete_expired(pg)
            + await accounts.delete_expired(pg)
            + await realtime.purge(pg, settings)
        )


async def purge_logs_forever(
    mongo: Database, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every LOG_PURGE_INTERVAL_SECONDS, the first pass at a random point of the first interval:
    workers start together, and a purge is a collection scan on FerretDB (its range filters use
    no index), which should neither fall on start-up nor run in every worker at once. A failed
    pass (MongoDB down) is logged and tried again at the next interval."""
    await asyncio.sleep(random.uniform(0, settings.log_purge_interval_seconds))  # noqa: S311
    while True:
        try:
            report = await purge_logs(mongo, settings, sessionmaker=sessionmaker)
            if report.activities or report.error_logs or report.transient_rows:
                log.info(
                    "expired entries deleted",
                    activities=report.activities,
                    error_logs=report.error_logs,
                    transient_rows=report.transient_rows,
                )
        except Exception as exc:  # the next pass retries; expiry is not urgent
            log.warning("log purge failed", error=str(exc))
        await asyncio.sleep(settings.log_purge_interval_seconds)
