"""PostgreSQL crashing and restarting under requests: every failure is a 503 with Retry-After,
never a 500 (also for MongoDB, whose local FerretDB stores its documents in that PostgreSQL),
and a 503 never claims "nothing was changed" when the change had already been sent."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.stack.manager import Stack
from tests.conftest import owner_engine
from tests.factories import PASSWORD, TestUser, login, make_user
from tests.helpers import eventually, pg_scalar

pytestmark = pytest.mark.faults

_names = itertools.count()


async def _traffic(client: httpx.AsyncClient, user: TestUser, seen: list[httpx.Response]) -> None:
    """Reads and writes of both databases, as fast as one client can send them."""
    auth = user.headers
    while True:
        n = next(_names)
        signup = {"email": f"r{n}@example.com", "username": f"restart_{n}", "password": PASSWORD}
        for method, path, body in (
            ("GET", "/api/auth/me", None),
            ("GET", "/api/courses", None),
            ("GET", "/api/me/profile", None),
            ("PATCH", "/api/me/settings", {"settings": {"n": n}}),
            ("POST", "/api/auth/login", {"email": user.email, "password": "Wrong-pass-1"}),
            ("POST", "/api/auth/register", signup),
        ):
            with contextlib.suppress(httpx.TransportError):
                seen.append(await client.request(method, path, json=body, headers=auth))
        await asyncio.sleep(0)


async def test_requests_while_postgresql_crashes_and_restarts_are_never_500s(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    seen: list[httpx.Response] = []
    workers = [asyncio.create_task(_traffic(fault_client, user, seen)) for _ in range(3)]
    try:
        for _ in range(2):
            await asyncio.sleep(0.5)
            fault_stack.postgres.kill()
            await asyncio.sleep(0.5)
            fault_stack.postgres.start()  # crash recovery: "the database system is starting up"
        await asyncio.sleep(1.0)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    statuses = Counter(r.status_code for r in seen)
    assert statuses[503] > 0, statuses  # the outage was met
    assert statuses[500] == 0, [r.text for r in seen if r.status_code == 500][:3]
    for response in seen:
        if response.status_code == 503:
            assert response.headers["retry-after"]
            assert response.json()["outcome"] in {"unchanged", "unknown"}


@pytest.fixture
async def slow_commits(fault_app: FastAPI) -> AsyncIterator[None]:
    """A deferred trigger that makes the COMMIT of a registration named slowcommit_* take 5 s:
    the window in which the test cuts the connection, after COMMIT was sent."""
    statements = [
        """CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.username LIKE 'slowcommit%' THEN PERFORM pg_sleep(5); END IF;
           RETURN NULL; END $$""",
        """CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON users
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()""",
    ]
    async with owner_engine(fault_app.state.settings).begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    try:
        yield
    finally:
        async with owner_engine(fault_app.state.settings).begin() as conn:
            await conn.execute(text("DROP TRIGGER IF EXISTS slow_commit ON users"))
            await conn.execute(text("DROP FUNCTION IF EXISTS slow_commit()"))


async def test_a_connection_lost_during_commit_is_an_unknown_outcome_not_nothing_changed(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, slow_commits: None
) -> None:
    request = asyncio.create_task(
        fault_client.post(
            "/api/auth/register",
            json={"email": "slow@example.com", "username": "slowcommit_1", "password": PASSWORD},
        )
    )

    async def committing() -> bool:
        return bool(
            await pg_scalar(
                fault_app,
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COMMIT%' "
                "AND wait_event = 'PgSleep'",
            )
        )

    assert await eventually(committing)
    await pg_scalar(
        fault_app,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE query LIKE 'COMMIT%' AND wait_event = 'PgSleep'",
    )
    response = await request
    assert response.status_code == 503
    problem = response.json()
    assert problem["outcome"] == "unknown"
    assert "nothing was changed" not in problem["detail"]


async def test_an_outage_before_anything_was_sent_says_nothing_was_changed(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    fault_stack.postgres.kill()
    try:
        response = await fault_client.get("/api/auth/me", headers=user.headers)
    finally:
        fault_stack.postgres.start()
    assert response.status_code == 503
    assert response.json()["outcome"] == "unchanged"

    async def back() -> bool:
        return (await fault_client.get("/api/auth/me", headers=user.headers)).status_code == 200

    assert await eventually(back)
