"""Assertions that look into both databases directly."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.core import clock
from oneenglish.db import rls
from oneenglish.sagas.models import UNFINISHED


async def pg_scalar(app: FastAPI, sql: str, **params: Any) -> Any:
    """A test's look at the database, as the application's role seeing every row."""
    with rls.system():
        async with app.state.engine.connect() as conn:
            return await conn.scalar(text(sql), params)


async def user_row_exists(app: FastAPI, user_id: uuid.UUID | str) -> bool:
    return bool(await pg_scalar(app, "SELECT count(*) FROM users WHERE id = :id", id=str(user_id)))


async def user_documents(app: FastAPI, user_id: uuid.UUID | str) -> tuple[bool, bool]:
    db = app.state.mongo_db
    profile, settings = await asyncio.gather(
        db.user_profiles.find_one({"_id": str(user_id)}),
        db.user_settings.find_one({"_id": str(user_id)}),
    )
    return profile is not None, settings is not None


async def unfinished_sagas(app: FastAPI) -> int:
    statuses = ", ".join(f"'{s}'" for s in UNFINISHED)
    return int(await pg_scalar(app, f"SELECT count(*) FROM sagas WHERE status IN ({statuses})"))  # noqa: S608


async def eventually(
    check: Callable[[], Awaitable[bool]], attempts: int = 200, delay: float = 0.1
) -> bool:
    """Poll a condition the relay makes true in the background (bounded, never a sleep-and-hope)."""
    for _ in range(attempts):
        if await check():
            return True
        await asyncio.sleep(delay)
    return False


@contextlib.contextmanager
def later(*, hours: float = 0, minutes: float = 0, seconds: float = 0) -> Iterator[None]:
    """The requests inside run this much later than now (the platform's clock, core/clock.py):
    for what the wall clock bounds, such as the study time a learner can be credited."""
    with clock.simulated(clock.now() + timedelta(hours=hours, minutes=minutes, seconds=seconds)):
        yield


async def pg_execute(app: FastAPI, sql: str, **params: Any) -> None:
    """A test's change to the database, as the application's role seeing every row."""
    with rls.system():
        async with app.state.engine.begin() as conn:
            await conn.execute(text(sql), params)
