"""Nothing of an erased user survives the erasure, whatever runs late: requests that overlap
it, sagas and subscribers the relay recovers after it (in either order), log writers of other
processes. Reconcile then finds no drift."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.activity.service import ActivityLog
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import user_references
from oneenglish.events import service as events
from oneenglish.jobs.reconcile import reconcile
from oneenglish.progress.schemas import ProgressDetail
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.models import Saga
from oneenglish.users import service as users
from oneenglish.workflows import live_users
from oneenglish.workflows.erase_user import KIND as ERASE_USER
from oneenglish.workflows.erase_user import Erasure
from oneenglish.workflows.record_progress import KIND as RECORD_PROGRESS
from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    logged_in,
    make_course,
    make_lesson,
)
from tests.helpers import eventually, pg_scalar, unfinished_sagas

LATER = 3600.0  # a lease long enough that the background relay leaves these sagas alone


async def settled(app: FastAPI) -> None:
    """Every saga done, every queued log entry written."""

    async def drained() -> bool:
        return await unfinished_sagas(app) == 0

    app.state.saga_runner.kick()
    assert await eventually(drained, attempts=300)
    await asyncio.gather(app.state.activity_log.flush(), app.state.error_log.flush())


async def remains_of(app: FastAPI, user_id: uuid.UUID) -> dict[str, int]:
    """Documents that still point at the user, per collection and field (audit logs aside)."""
    mongo = app.state.mongo_db
    found: dict[str, int] = {}
    for ref in user_references():
        if not ref.erase:
            continue
        count = await mongo[ref.collection].count_documents({ref.field: str(user_id)})
        if count:
            found[f"{ref.collection}.{ref.field}"] = count
    return found


async def assert_nothing_remains(app: FastAPI, user: TestUser) -> None:
    await settled(app)
    assert await remains_of(app, user.id) == {}
    assert not await pg_scalar(app, "SELECT count(*) FROM users WHERE id = :id", id=user.id)
    entries = await app.state.mongo_db.audit_logs.find(
        {"$or": [{"actorId": str(user.id)}, {"entityId": str(user.id)}]}
    ).to_list()
    stored = orjson.dumps(entries, default=str).decode()
    assert user.email not in stored
    assert user.username not in stored
    assert all(e.get("ipAddress") is None for e in entries)
    sagas = await pg_scalar(app, "SELECT coalesce(string_agg(payload::text, ' '), '') FROM sagas")
    assert user.email not in sagas
    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=False
    )
    assert report.found == 0, report


@pytest.fixture
async def course_with_quiz(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await make_lesson(client, teacher, course["id"])
    return {"course": course, "lesson": lesson, "teacher": teacher}


QUIZ = {"answers": PERFECT_ANSWERS}  # a perfect score: an award, with its notification


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02, 0.05])
async def test_learning_messages_and_awards_racing_an_erasure_leave_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    course_with_quiz: dict[str, object],
    delay: float,
) -> None:
    course, lesson = course_with_quiz["course"], course_with_quiz["lesson"]
    learner = await logged_in(app, client)
    classmate = await logged_in(app, client)
    await enroll(client, classmate, course["id"])  # type: ignore[index]
    other_course = await make_course(client, course_with_quiz["teacher"])  # type: ignore[arg-type]

    async def learn() -> None:
        await enroll(client, learner, course["id"])  # type: ignore[index]
        await asyncio.gather(
            client.put(
                f"/api/lessons/{lesson['id']}/progress",  # type: ignore[index]
                headers=learner.headers,
                json={"completed_steps": ["intro"], "time_spent_seconds": 60, "completed": True},
            ),
            client.post(
                f"/api/lessons/{lesson['id']}/quiz",  # type: ignore[index]
                headers=learner.headers,
                json=QUIZ,
            ),
            client.post(
                f"/api/chat/direct/{classmate.id}/messages",
                headers=learner.headers,
                json={"message": "hello"},
            ),
            client.post(
                f"/api/chat/direct/{learner.id}/messages",
                headers=classmate.headers,
                json={"message": "hi back"},
            ),
            client.post(f"/api/courses/{other_course['id']}/enrollments", headers=learner.headers),
            client.patch("/api/me/settings", headers=learner.headers, json={"settings": {"a": 1}}),
            client.patch("/api/me/profile", headers=learner.headers, json={"bio": "About me"}),
        )

    async def erase() -> None:
        await asyncio.sleep(delay + random.uniform(0, 0.01))
        response = await client.delete(f"/api/users/{learner.id}", headers=learner.headers)
        assert response.status_code in (204, 401), response.text

    await asyncio.gather(learn(), erase(), return_exceptions=True)
    still_there = await pg_scalar(app, "SELECT count(*) FROM users WHERE id = :id", id=learner.id)
    if still_there:  # every request of the learner was in before the erasure: erase now
        admin = await logged_in(app, client, roles=("admin",))
        await client.delete(f"/api/users/{learner.id}", headers=admin.headers)
    await assert_nothing_remains(app, learner)


async def _pending_erasure(app: FastAPI, user: TestUser) -> uuid.UUID:
    """The erasure's first transaction, without running it (as if the process died then)."""
    me = Principal(user.id, user.email, user.username, uuid.uuid4(), frozenset(), frozenset())
    async with app.state.sessionmaker() as db:
        roles = await users.lock_for_erasure(db, me, user.id)
        saga = enqueue(
            db,
            ERASE_USER,
            Erasure(user_id=user.id, roles=roles, actor_id=user.id),
            subject_id=user.id,
            lease_seconds=LATER,
        )
        await db.commit()
    return saga.id


async def _pending_user_sagas(app: FastAPI, user: TestUser, enrollment_id: str) -> list[uuid.UUID]:
    """A progress detail and an event for the user, committed and not yet run."""
    course_id, lesson_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with app.state.sessionmaker() as db:
        progress = enqueue(
            db,
            RECORD_PROGRESS,
            ProgressDetail(
                user_id=str(user.id),
                lesson_id=lesson_id,
                course_id=course_id,
                enrollment_id=enrollment_id,
                steps=["intro"],
                time_spent_total=30,
                completed_at=None,
                notes="my own words",
                at=datetime.now(UTC),
            ),
            lease_seconds=LATER,
            user_ids=[user.id],
        )
        events.publish(
            db,
            events.ENROLLED,
            user.id,
            {"courseId": course_id, "courseTitle": "T", "enrollmentId": enrollment_id},
        )
        await db.execute(
            text("UPDATE sagas SET next_attempt_at = now() + interval '1 hour' WHERE kind = :k"),
            {"k": events.DISPATCH_EVENT.name},
        )
        await db.commit()
    return [progress.id]


async def _run_relay(app: FastAPI) -> None:
    while await app.state.saga_runner.recover_once(ignore_lease=True):
        pass


async def _due_first(app: FastAPI, saga_id: uuid.UUID, first: bool) -> None:
    """The relay takes due sagas oldest first: put this one before or after the others."""
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE sagas SET next_attempt_at = now() + interval '1 hour' "
                "+ :minutes * interval '1 minute' WHERE id = :id"
            ),
            {"id": saga_id, "minutes": -1 if first else 1},
        )


@pytest.mark.parametrize("erasure_first", [True, False])
async def test_the_relay_recovering_an_erasure_and_a_users_sagas_in_either_order_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, erasure_first: bool
) -> None:
    learner = await logged_in(app, client)
    erasure = await _pending_erasure(app, learner)
    await _pending_user_sagas(app, learner, str(uuid.uuid4()))
    await _due_first(app, erasure, erasure_first)
    await _run_relay(app)
    await assert_nothing_remains(app, learner)


async def test_a_users_saga_another_relay_held_through_the_erasure_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    erasure = await _pending_erasure(app, learner)
    [progress] = await _pending_user_sagas(app, learner, str(uuid.uuid4()))
    async with app.state.engine.connect() as other_relay:
        # Another process's relay pass holds the progress saga while this one erases.
        await other_relay.execute(
            text("SELECT id FROM sagas WHERE id = :id FOR UPDATE"), {"id": progress}
        )
        async with app.state.sessionmaker() as db, db.begin():
            saga = await db.get(Saga, erasure, with_for_update=True)
            assert saga is not None
            await app.state.saga_runner._advance(db, saga, from_request=False)
        await other_relay.rollback()
    assert await pg_scalar(app, "SELECT status FROM sagas WHERE id = :id", id=progress) == "pending"
    await _run_relay(app)  # the held saga runs after the erasure: the user is gone
    await assert_nothing_remains(app, learner)
    steps = await pg_scalar(app, "SELECT steps::text FROM sagas WHERE id = :id", id=progress)
    assert "erased" in steps


async def test_another_processs_activity_writer_writes_nothing_for_an_erased_user(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    elsewhere = ActivityLog(app.state.settings)  # the writer of another API process
    elsewhere.start(app.state.mongo_db, live_users.batch_guard(app.state.sessionmaker))
    try:
        assert (
            await client.delete(f"/api/users/{learner.id}", headers=learner.headers)
        ).status_code == 204
        elsewhere.record(learner.id, "GET /api/auth/me", {}, {"status": 200}, "10.0.0.9")
        await elsewhere.flush()
    finally:
        await elsewhere.stop()
    await assert_nothing_remains(app, learner)


async def test_a_second_erasure_while_one_is_pending_is_a_409(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    admin = await logged_in(app, client, roles=("admin",))
    await _pending_erasure(app, learner)
    response = await client.delete(f"/api/users/{learner.id}", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["erasure"] == "pending"
    while await app.state.saga_runner.recover_once(ignore_lease=True):
        pass
    await assert_nothing_remains(app, learner)


async def test_the_erased_users_audit_entries_keep_the_event_and_lose_the_person(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    await client.patch(
        f"/api/users/{learner.id}",
        headers=learner.headers,
        json={"first_name": "Annabel", "last_name": "Lee"},
    )
    await settled(app)
    assert (
        await client.delete(f"/api/users/{learner.id}", headers=learner.headers)
    ).status_code == 204
    await settled(app)
    entries = await app.state.mongo_db.audit_logs.find({"entityId": str(learner.id)}).to_list()
    actions = {e["action"] for e in entries}
    assert {"user.updated", "user.erased"} <= actions
    updated = next(e for e in entries if e["action"] == "user.updated")
    assert updated["actorId"] == str(learner.id)
    assert updated["pseudonymised"] is True
    assert "Annabel" not in orjson.dumps(updated).decode()
    erased = next(e for e in entries if e["action"] == "user.erased")
    assert erased["changes"]["before"] == {"roles": ["student"]}


async def test_a_self_erasure_leaves_the_users_address_in_no_saga_and_no_entry(
    app: FastAPI,
) -> None:
    address = "198.51.100.77"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        learner = await logged_in(app, client)
        await client.patch("/api/me/profile", headers=learner.headers, json={"city": "Lima"})
        erased = await client.delete(f"/api/users/{learner.id}", headers=learner.headers)
        assert erased.status_code == 204
    await assert_nothing_remains(app, learner)
    payloads = await pg_scalar(
        app, "SELECT coalesce(string_agg(payload::text, ' '), '') FROM sagas"
    )
    assert address not in payloads
    entries = await app.state.mongo_db.audit_logs.find({}).to_list()
    assert address not in orjson.dumps(entries, default=str).decode()
