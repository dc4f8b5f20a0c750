"""Readiness: can we reach both databases right now, and open the key vault?"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from oneenglish.db import encryption
from oneenglish.db.mongo import Database
from oneenglish.sagas.models import FAILED, UNFINISHED
from oneenglish.sagas.runner import SagaRunner


@dataclass(frozen=True)
class DependencyCheck:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


async def _timed(
    name: str, probe: Callable[[], Awaitable[object]], timeout: float
) -> DependencyCheck:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        error: str | None = f"no answer within {timeout:g}s"
    except Exception as exc:  # any failure to answer is "not ready"
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    else:
        error = None
    latency = round((time.perf_counter() - started) * 1000, 2)
    return DependencyCheck(name, error is None, latency, error)


async def _ping_postgres(engine: AsyncEngine) -> None:
    # After a server restart the pool's connections are dead; the first use invalidates the
    # pool and a second attempt reconnects.
    for attempt in range(2):
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except DBAPIError as exc:
            if attempt == 1 or not exc.connection_invalidated:
                raise


async def check_readiness(
    engine: AsyncEngine, mongo: Database, timeout: float
) -> list[DependencyCheck]:
    return list(
        await asyncio.gather(
            _timed("postgresql", lambda: _ping_postgres(engine), timeout),
            _timed("mongodb", lambda: mongo.command("ping"), timeout),
            # The master key opens the key vault (a wrong key would fail every profile read).
            _timed(
                "field_encryption",
                lambda: encryption.for_database(mongo).ensure_verified(),
                timeout,
            ),
        )
    )


class SagaBacklog(Collector):
    """The saga backlog as of a scrape (already read from PostgreSQL by `read_saga_backlog`)."""

    def __init__(self, backlog: dict[str, tuple[int, float]] | None) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        readable = GaugeMetricFamily(
            "oneenglish_saga_backlog_readable",
            "1 when this scrape could read the saga log from PostgreSQL, else 0",
        )
        readable.add_metric([], 0 if self.backlog is None else 1)
        yield readable
        if self.backlog is None:
            return
        count = GaugeMetricFamily(
            "oneenglish_saga_backlog",
            "Sagas not finished (pending, compensating) or failed, by status",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "oneenglish_saga_oldest_age_seconds",
            "Age of the oldest saga in each unfinished or failed status",
            labels=["status"],
        )
        for status in (*UNFINISHED, FAILED):
            number, age = self.backlog.get(status, (0, 0.0))
            count.add_metric([status], number)
            oldest.add_metric([status], age)
        yield count
        yield oldest


async def read_saga_backlog(
    runner: SagaRunner, timeout: float
) -> dict[str, tuple[int, float]] | None:
    """The backlog, or None if PostgreSQL does not answer in time (the scrape still succeeds:
    the API's own metrics are what tells an operator why)."""
    try:
        return await asyncio.wait_for(runner.backlog(), timeout)
    except Exception:  # unreadable now: reported as oneenglish_saga_backlog_readable 0
        return None
