"""Read replicas on a real streaming standby of the test PostgreSQL: read-only routes are served
by it, a client reads its own writes at once however far it lags, and a replica that lags,
stops or is not a standby changes nothing for clients."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.db.replicas import READ_AFTER, Replicas, parse_lsn
from oneenglish.settings import LOCAL_APP_ROLE, Settings
from oneenglish.stack.manager import Stack
from oneenglish.stack.postgres import LocalPostgresReplica
from tests.conftest import PORT_OFFSET, REPO, WORKER_INDEX, make_settings, per_worker
from tests.factories import TestUser, logged_in, make_course
from tests.helpers import eventually
from tests.processes import free_port

REPLICA_PORT = 25700 + PORT_OFFSET + WORKER_INDEX
MAX_LAG = 3.0


@pytest.fixture(scope="module")
def replica(stack: Stack) -> Iterator[LocalPostgresReplica]:
    # A standby made for this module: one left by an earlier run (`make test`'s first pass)
    # may need WAL the primary, restarted since, has recycled, and would never catch up.
    root = REPO / ".data" / per_worker("test-replica")
    shutil.rmtree(root, ignore_errors=True)
    server = LocalPostgresReplica(root, REPLICA_PORT, stack.postgres)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def replica_url(settings: Settings, port: int) -> str:
    password = settings.local_password(LOCAL_APP_ROLE)
    database = settings.local_postgres_database
    return f"postgresql://{LOCAL_APP_ROLE}:{password}@127.0.0.1:{port}/{database}"


def with_replicas(settings: Settings, *urls: str, **overrides: object) -> Settings:
    return make_settings(
        settings.data_dir.name,
        settings.local_postgres_port,
        settings.local_mongodb_port,
        local_postgres_database=settings.local_postgres_database,
        mongodb_database=settings.mongodb_database,
        database_replica_urls=list(urls),
        replica_max_lag_seconds=MAX_LAG,
        replica_check_seconds=0.1,
        **overrides,
    )


@pytest.fixture(scope="module")
async def app(migrated: Settings, replica: LocalPostgresReplica) -> AsyncIterator[FastAPI]:
    """This module's API: reading from the replica."""
    application = create_app(with_replicas(migrated, replica_url(migrated, replica.port)))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def running(app: FastAPI, replica: LocalPostgresReplica) -> LocalPostgresReplica:
    """The replica up, replaying, and usable by the API."""
    replica.start()
    replica.psql("SELECT pg_wal_replay_resume()", database="postgres")

    async def usable() -> bool:
        return bool(app.state.replicas.states[0].usable)

    assert await eventually(usable)
    return replica


def anonymous(app: FastAPI) -> httpx.AsyncClient:
    """A client with no cookie: nothing tells the API what it wrote."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def readiness_replica(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    replicas = response.json()["replicas"]
    assert len(replicas) == 1
    state: dict[str, object] = replicas[0]
    return state


async def test_a_write_answers_with_its_position_and_a_read_does_not(
    client: httpx.AsyncClient, app: FastAPI, running: LocalPostgresReplica
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    created = await client.post(
        "/api/courses", headers=teacher.headers, json={"title": "Positions", "level": "A1"}
    )
    assert created.status_code == 201
    assert parse_lsn(created.headers[READ_AFTER]) is not None
    assert created.cookies.get("oe_read_after") == created.headers[READ_AFTER]
    listed = await client.get("/api/courses", headers=teacher.headers)
    assert listed.status_code == 200
    assert READ_AFTER not in listed.headers


async def test_reads_are_served_by_the_replica_and_a_client_reads_its_writes_at_once(
    client: httpx.AsyncClient, app: FastAPI, running: LocalPostgresReplica
) -> None:
    teacher: TestUser = await logged_in(app, client, roles=("teacher",))
    # The replica stops replaying: whatever is written now exists on the primary only.
    running.psql("SELECT pg_wal_replay_pause()", database="postgres")
    try:
        course = await make_course(client, teacher)  # the client keeps the position cookie

        # Its author reads it at once, from the primary: the replica has not replayed it.
        mine = await client.get(f"/api/courses/{course['id']}")
        assert mine.status_code == 200, mine.text
        lessons = await client.get(f"/api/courses/{course['id']}/lessons")
        assert lessons.status_code == 200
        # Anyone else is served by the replica, which does not have it yet: the proof that
        # the replica serves the read.
        async with anonymous(app) as stranger:
            assert (await stranger.get(f"/api/courses/{course['id']}")).status_code == 404
            in_use = running.psql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'oneenglish_replica_read'",
                database="postgres",
            ).stdout.strip()
            assert int(in_use) >= 1

            # Past REPLICA_MAX_LAG_SECONDS the replica is skipped: the primary serves it.
            async def skipped() -> bool:
                return not app.state.replicas.states[0].usable

            assert await eventually(skipped, attempts=100)
            assert (await stranger.get(f"/api/courses/{course['id']}")).status_code == 200
            state = await readiness_replica(stranger)
            assert state["usable"] is False
            assert "lag" in str(state["error"])
    finally:
        running.psql("SELECT pg_wal_replay_resume()", database="postgres")

    async def caught_up() -> bool:
        return bool(app.state.replicas.states[0].usable)

    assert await eventually(caught_up)
    async with anonymous(app) as stranger:
        assert (await stranger.get(f"/api/courses/{course['id']}")).status_code == 200
        assert (await readiness_replica(stranger))["usable"] is True


async def test_a_stopped_replica_changes_nothing_for_clients(
    client: httpx.AsyncClient, app: FastAPI, running: LocalPostgresReplica
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    running.stop()
    try:
        async with anonymous(app) as stranger:
            # At once, before any health check has noticed: the read falls back.
            for _ in range(3):
                response = await stranger.get(f"/api/courses/{course['id']}")
                assert response.status_code == 200, response.text
                assert (await stranger.get("/api/courses")).status_code == 200
            state = await readiness_replica(stranger)
            assert state["usable"] is False
    finally:
        running.start()


async def test_a_replica_that_is_not_a_standby_or_does_not_answer_is_never_used(
    migrated: Settings, app: FastAPI
) -> None:
    primary_as_replica = replica_url(migrated, migrated.local_postgres_port)
    nowhere = replica_url(migrated, free_port())
    settings = with_replicas(migrated, primary_as_replica, nowhere, health_timeout=1.0)
    replicas = Replicas(settings, app.state.engine)
    try:
        await replicas.check()
        await asyncio.sleep(0.05)
        await replicas.check()
        standby, missing = replicas.states
        assert not standby.usable
        assert standby.error == "not a standby (pg_is_in_recovery() false)"
        assert not missing.usable
        assert missing.error
        assert replicas.reader(None) is None
    finally:
        await replicas.dispose()
