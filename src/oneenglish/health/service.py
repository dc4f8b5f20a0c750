"""Readiness: can we reach both databases right now, and open the key vault?"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from oneenglish.db import encryption
from oneenglish.db.mongo import Database


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
