"""Row Level Security (db/rls.py, migration 0010): under the application's role, the database
itself shows a caller only their own rows, whatever the query forgets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from contextvars import copy_context
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db import rls
from oneenglish.db.postgres import tls_context
from oneenglish.settings import Settings
from tests.factories import TestUser, enroll, logged_in, make_course

T = TypeVar("T")


@pytest.fixture
async def classroom(app: FastAPI, client: httpx.AsyncClient, teacher: TestUser) -> dict[str, Any]:
    course = await make_course(client, teacher)
    learners = [await logged_in(app, client) for _ in range(2)]
    for learner in learners:
        await enroll(client, learner, course["id"])
    other_teacher = await logged_in(app, client, roles=("teacher",))
    return {"course": course, "learners": learners, "other_teacher": other_teacher}


async def rows_seen(app: FastAPI, scope: rls.RowScope, sql: str) -> list[Any]:
    """What a session sees under `scope`, in a context of its own (as a request has)."""

    async def look() -> list[Any]:
        rls._SCOPE.set(scope)  # what authentication does for a request
        async with app.state.sessionmaker() as db:
            return list((await db.execute(text(sql))).scalars())

    return await in_own_context(look)


async def in_own_context(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `work` as a request runs: in a task with a context of its own."""
    return await asyncio.create_task(work(), context=copy_context())


async def test_a_query_without_its_where_clause_returns_only_the_callers_rows(
    app: FastAPI, classroom: dict[str, Any]
) -> None:
    alice, bob = classroom["learners"]
    me = rls.RowScope(alice.id)
    assert await rows_seen(app, me, "SELECT user_id FROM enrollments") == [alice.id]
    assert set(await rows_seen(app, me, "SELECT user_id FROM auth_sessions")) == {alice.id}
    own_sessions = await rows_seen(app, me, "SELECT session_id FROM refresh_tokens")
    all_sessions = await rows_seen(app, rls.SYSTEM, "SELECT session_id FROM refresh_tokens")
    assert own_sessions
    assert len(own_sessions) < len(all_sessions)
    assert bob.id in await rows_seen(app, rls.SYSTEM, "SELECT user_id FROM enrollments")


async def test_a_connection_that_names_nobody_sees_no_protected_row(
    app: FastAPI, classroom: dict[str, Any]
) -> None:
    for table in rls.PROTECTED_TABLES:
        assert await rows_seen(app, rls.NOBODY, f"SELECT 1 FROM {table}") == []  # noqa: S608


async def test_a_teacher_sees_the_enrollments_of_their_courses_only(
    app: FastAPI, classroom: dict[str, Any], teacher: TestUser
) -> None:
    learners = {u.id for u in classroom["learners"]}
    seen = await rows_seen(app, rls.RowScope(teacher.id), "SELECT user_id FROM enrollments")
    assert set(seen) == learners
    stranger = classroom["other_teacher"]
    assert await rows_seen(app, rls.RowScope(stranger.id), "SELECT 1 FROM enrollments") == []


async def test_a_learner_cannot_write_a_row_for_someone_else(
    app: FastAPI, classroom: dict[str, Any]
) -> None:
    alice, bob = classroom["learners"]

    async def enrol_bob_as_alice() -> None:
        rls._SCOPE.set(rls.RowScope(alice.id))
        async with app.state.sessionmaker() as db, db.begin():
            await db.execute(
                text("INSERT INTO auth_sessions (user_id) VALUES (:bob)"), {"bob": bob.id}
            )

    with pytest.raises(DBAPIError, match="row-level security"):
        await in_own_context(enrol_bob_as_alice)


async def test_a_pooled_connection_never_keeps_the_previous_callers_scope(
    app: FastAPI, classroom: dict[str, Any]
) -> None:
    """The pool hands the same few connections to every request: each checkout sets the scope
    of the request that takes it."""
    alice, _ = classroom["learners"]
    for _ in range(5):
        assert await rows_seen(app, rls.RowScope(alice.id), "SELECT 1 FROM enrollments")
        assert await rows_seen(app, rls.NOBODY, "SELECT 1 FROM enrollments") == []


async def test_elevation_applies_to_the_connection_already_held(
    app: FastAPI, classroom: dict[str, Any]
) -> None:
    alice, _ = classroom["learners"]

    async def look() -> tuple[int, int]:
        rls._SCOPE.set(rls.NOBODY)
        db: AsyncSession
        async with app.state.sessionmaker() as db:
            await rls.act_as(db, alice.id)
            before = (await db.execute(text("SELECT count(*) FROM enrollments"))).scalar_one()
            await rls.elevate(db)
            after = (await db.execute(text("SELECT count(*) FROM enrollments"))).scalar_one()
            return before, after

    assert await in_own_context(look) == (1, 2)


async def test_the_reporting_role_reads_every_enrollment(
    migrated: Settings, classroom: dict[str, Any]
) -> None:
    assert migrated.reporting_postgres_url is not None
    dsn = migrated.reporting_postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    conn: asyncpg.Connection = await asyncpg.connect(dsn, ssl=tls_context(migrated))
    try:
        assert await conn.fetchval("SELECT count(*) FROM enrollments") == 2
        assert await conn.fetchval("SELECT count(*) FROM user_permissions") == 0
    finally:
        await conn.close()


async def test_the_api_still_serves_each_learner_their_own_rows(
    client: httpx.AsyncClient, classroom: dict[str, Any]
) -> None:
    alice, _ = classroom["learners"]
    mine = await client.get("/api/me/enrollments", headers=alice.headers)
    assert mine.status_code == 200
    assert [e["course_id"] for e in mine.json()["items"]] == [classroom["course"]["id"]]
    assert uuid.UUID(mine.json()["items"][0]["user_id"]) == alice.id


@pytest.mark.parametrize(
    ("query", "probe"),
    [
        (
            "SELECT * FROM lesson_activity WHERE enrollment_id = "
            "'00000000-0000-4000-8000-000000000000'::uuid",
            "Index Cond: (id = lesson_activity.enrollment_id)",
        ),
        (
            "SELECT * FROM refresh_tokens WHERE session_id = "
            "'00000000-0000-4000-8000-000000000000'::uuid",
            "Index Cond: (id = refresh_tokens.session_id)",
        ),
    ],
)
async def test_a_policy_through_a_parent_looks_up_one_parent_row(
    app: FastAPI, classroom: dict[str, Any], query: str, probe: str
) -> None:
    """The parent's row is found by its primary key (migration 0013), not by a hashed subplan
    that scans every enrollment or session the caller may see on each statement."""
    learner = classroom["learners"][0]

    async def plan() -> str:
        rls._SCOPE.set(rls.RowScope(learner.id))
        async with app.state.sessionmaker() as db, db.begin():
            await db.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join((await db.execute(text(f"EXPLAIN {query}"))).scalars())

    explained = await in_own_context(plan)
    assert probe in explained
