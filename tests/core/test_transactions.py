"""The request owns its transaction: committed once when the endpoint returns, rolled back when
it raises; a refusal that must stand is committed by name; release_connection never rolls
back writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.app import create_app
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession, release_connection
from oneenglish.rbac.models import Role
from oneenglish.settings import Settings
from tests.factories import make_user
from tests.helpers import pg_scalar

COUNTER = "INSERT INTO rate_limits (key, hits, window_started_at, window_seconds) "
COUNTER += "VALUES (:key, 1, now(), 60)"


@pytest.fixture(scope="module")
async def probe_app(migrated: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(migrated)
    probes = ApiRouter(prefix="/_probe")

    @probes.post("/write")
    async def write(key: str, db: DbSession) -> dict[str, str]:
        await db.execute(text(COUNTER), {"key": key})
        return {"key": key}

    @probes.post("/write-then-fail")
    async def write_then_fail(key: str, db: DbSession) -> None:
        await db.execute(text(COUNTER), {"key": key})
        raise RuntimeError("after the write")

    application.include_router(probes)
    async with application.router.lifespan_context(application):
        yield application


async def rows(app: FastAPI, key: str) -> int:
    return int(await pg_scalar(app, "SELECT count(*) FROM rate_limits WHERE key = :k", k=key))


async def test_what_an_endpoint_wrote_is_committed_when_it_returns(probe_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        key = uuid.uuid4().hex
        assert (await client.post("/_probe/write", params={"key": key})).status_code == 200
    assert await rows(probe_app, key) == 1


async def test_an_endpoint_that_raises_after_a_write_leaves_nothing(probe_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        key = uuid.uuid4().hex
        response = await client.post("/_probe/write-then-fail", params={"key": key})
    assert response.status_code == 500
    assert await rows(probe_app, key) == 0


async def test_a_failed_login_is_counted_though_the_request_fails(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await make_user(app)
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "Not-the-password-1"}
    )
    assert response.status_code == 401
    failures = await pg_scalar(
        app, "SELECT max(failures) FROM login_throttles WHERE user_id = :u", u=user.id
    )
    assert failures == 1


async def test_release_connection_refuses_to_roll_back_writes(app: FastAPI) -> None:
    async with app.state.sessionmaker() as db:
        await db.execute(text("SELECT 1"))
        await release_connection(db)  # reads only: released
        await db.execute(text(COUNTER), {"key": uuid.uuid4().hex})
        with pytest.raises(RuntimeError, match="roll back"):
            await release_connection(db)
        await db.rollback()
        await make_user_row_flushed(db)
        with pytest.raises(RuntimeError, match="roll back"):
            await release_connection(db)
        await db.rollback()


async def make_user_row_flushed(db: AsyncSession) -> None:
    db.add(Role(name=f"probe_{uuid.uuid4().hex[:8]}", description=""))
    await db.flush()


def test_no_router_commits() -> None:
    package = Path(__file__).resolve().parents[2] / "src" / "oneenglish"
    offenders = [
        str(path.relative_to(package))
        for path in package.glob("*/router.py")
        if ".commit()" in path.read_text()
    ]
    assert offenders == []
