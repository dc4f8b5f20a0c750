"""The API behind a real PgBouncer in transaction pooling mode, with one server connection for
all its clients: connections go through it, no user's Row Level Security scope reaches another
client of that shared connection, and prepared statements of two applications never collide."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.app import create_app
from oneenglish.db import rls
from oneenglish.settings import LOCAL_APP_ROLE, Settings
from oneenglish.stack.manager import Stack
from oneenglish.stack.pgbouncer import LocalPgBouncer
from tests.conftest import REPO, make_settings, per_worker
from tests.factories import TestUser, enroll, logged_in, make_course
from tests.processes import free_port


@pytest.fixture(scope="module")
def bouncer(stack: Stack, migrated: Settings) -> Iterator[LocalPgBouncer]:
    server = LocalPgBouncer(
        REPO / ".data" / per_worker("test-pgbouncer"),
        free_port(),
        stack.postgres,
        users={LOCAL_APP_ROLE: migrated.local_password(LOCAL_APP_ROLE)},
        pool_size=1,  # every client shares one server connection
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pooled_settings(settings: Settings, bouncer: LocalPgBouncer) -> Settings:
    return make_settings(
        settings.data_dir.name,
        settings.local_postgres_port,
        settings.local_mongodb_port,
        local_postgres_database=settings.local_postgres_database,
        mongodb_database=settings.mongodb_database,
        local_pgbouncer=True,
        local_pgbouncer_port=bouncer.port,
        # Each pass of the relay takes the one server connection for a moment.
        saga_relay_interval_seconds=5.0,
    )


@pytest.fixture
async def pooled(app: FastAPI, bouncer: LocalPgBouncer) -> AsyncIterator[FastAPI]:
    application = create_app(pooled_settings(app.state.settings, bouncer))
    async with application.router.lifespan_context(application):
        yield application


def client_of(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


async def raw_client(settings: Settings, bouncer: LocalPgBouncer) -> asyncpg.Connection:
    """Another client of the same pool, saying nothing about who it is."""
    context = ssl.create_default_context(cafile=str(settings.local_tls_dir / "ca.pem"))
    return await asyncpg.connect(
        host="127.0.0.1",
        port=bouncer.port,
        user=LOCAL_APP_ROLE,
        password=settings.local_password(LOCAL_APP_ROLE),
        database=settings.local_postgres_database,
        ssl=context,
        statement_cache_size=0,
    )


async def test_the_application_connects_through_pgbouncer(
    pooled: FastAPI, bouncer: LocalPgBouncer
) -> None:
    assert pooled.state.engine.url.port == bouncer.port
    sessionmaker = pooled.state.sessionmaker
    async with sessionmaker() as first, sessionmaker() as second:
        held = await first.scalar(text("SELECT pg_backend_pid()"))  # the one server connection
        waiting = asyncio.create_task(second.scalar(text("SELECT pg_backend_pid()")))
        await asyncio.sleep(0.5)
        assert not waiting.done(), "a second transaction waits for the pool's only connection"
        await first.commit()
        assert await asyncio.wait_for(waiting, 10) == held, "then runs on the same one"


async def test_a_users_scope_never_reaches_another_client_of_the_server_connection(
    app: FastAPI, client: httpx.AsyncClient, pooled: FastAPI, bouncer: LocalPgBouncer
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    learners = [await logged_in(app, client) for _ in range(3)]
    for learner in learners:
        await enroll(client, learner, course["id"])
    other = await raw_client(pooled.state.settings, bouncer)
    try:
        async with client_of(pooled) as through_pooler:

            async def own_enrollments(learner: TestUser) -> list[str]:
                response = await through_pooler.get("/api/me/enrollments", headers=learner.headers)
                assert response.status_code == 200, response.text
                return [item["user_id"] for item in response.json()["items"]]

            for _ in range(5):
                # The learners' requests take turns on the one server connection ...
                seen = await asyncio.gather(*(own_enrollments(u) for u in learners))
                assert seen == [[str(u.id)] for u in learners]
                # ... and a client that says nothing after them inherits nobody's scope.
                row = await other.fetchrow(
                    "SELECT current_setting('app.user_id', true) AS user_id,"
                    " current_setting('app.scope', true) AS scope,"
                    " (SELECT count(*) FROM enrollments) AS visible"
                )
                assert row is not None
                assert (row["user_id"] or "", row["scope"] or "", row["visible"]) == ("", "", 0)
    finally:
        await other.close()
    with rls.system():
        async with pooled.state.sessionmaker() as db:  # the system scope, per transaction
            total = await db.scalar(text("SELECT count(*) FROM enrollments"))
    assert total == len(learners)


async def test_two_applications_prepared_statements_never_collide(
    app: FastAPI, client: httpx.AsyncClient, pooled: FastAPI, bouncer: LocalPgBouncer
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    second = create_app(pooled_settings(app.state.settings, bouncer))

    async def read(c: httpx.AsyncClient) -> int:
        response = await c.get(f"/api/courses/{course['id']}", headers=teacher.headers)
        return response.status_code

    async with (
        second.router.lifespan_context(second),
        client_of(pooled) as one,
        client_of(second) as two,
    ):
        codes = await asyncio.gather(*(read(c) for c in [one, two] * 25))
    assert codes == [200] * 50


async def test_a_pooler_that_resets_every_connection_costs_a_503_at_most_and_loses_nothing(
    app: FastAPI, client: httpx.AsyncClient, pooled: FastAPI, bouncer: LocalPgBouncer
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    async with client_of(pooled) as through_pooler:
        created = await through_pooler.post(
            "/api/courses",
            headers=teacher.headers,
            json={"title": "Before the reset", "level": "A1", "price": "0"},
        )
        assert created.status_code == 201, created.text
        bouncer.stop()  # every client connection of the API's pool is cut
        bouncer.start()
        codes = []
        for _ in range(5):
            response = await through_pooler.get(
                f"/api/courses/{created.json()['id']}", headers=teacher.headers
            )
            codes.append(response.status_code)
            if response.status_code == 503:
                assert response.headers["Retry-After"]
    # The first use of a cut connection is an outage (the pool then drops them all), never a
    # 500; the acknowledged write is there.
    assert codes[0] in (200, 503), codes
    assert codes[1:] == [200] * 4, codes
