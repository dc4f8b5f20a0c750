"""Learning while MongoDB is down: nothing half-created, no progress lost, reads degrade."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.stack.manager import Stack
from tests.factories import SAMPLE_CONTENT, TestUser, enroll, logged_in, make_course, make_lesson
from tests.helpers import eventually, later, pg_scalar

pytestmark = pytest.mark.faults


@pytest.fixture
async def teacher(fault_app: FastAPI, fault_client: httpx.AsyncClient) -> TestUser:
    return await logged_in(fault_app, fault_client, roles=("teacher",))


@pytest.fixture
async def learner(fault_app: FastAPI, fault_client: httpx.AsyncClient) -> TestUser:
    return await logged_in(fault_app, fault_client)


async def test_a_lesson_with_content_is_not_created_without_mongodb(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack, teacher: TestUser
) -> None:
    course = await make_course(fault_client, teacher)
    fault_stack.ferretdb.kill()
    response = await fault_client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "Lost", "duration_minutes": 10, "content": SAMPLE_CONTENT},
    )
    assert response.status_code == 503
    assert await pg_scalar(fault_app, "SELECT count(*) FROM lessons") == 0
    fault_stack.ferretdb.start()
    fault_app.state.saga_runner.kick()

    async def compensated() -> bool:
        status = await pg_scalar(fault_app, "SELECT status FROM sagas WHERE kind = 'create_lesson'")
        return bool(status == "compensated")

    assert await eventually(compensated, attempts=300)
    assert await fault_app.state.mongo_db.lesson_contents.count_documents({}) == 0


async def test_progress_made_while_mongodb_is_down_is_accepted_and_applied_later(
    fault_app: FastAPI,
    fault_client: httpx.AsyncClient,
    fault_stack: Stack,
    teacher: TestUser,
    learner: TestUser,
) -> None:
    course = await make_course(fault_client, teacher)
    lesson = await make_lesson(fault_client, teacher, course["id"], content=SAMPLE_CONTENT)
    # A manual lesson: its completion needs no content (a rule's steps are in MongoDB).
    await fault_client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json={"completion": "manual"}
    )
    await enroll(fault_client, learner, course["id"])
    fault_stack.ferretdb.kill()

    with later(minutes=2):
        response = await fault_client.put(
            f"/api/lessons/{lesson['id']}/progress",
            headers=learner.headers,
            json={"time_spent_seconds": 90, "completed": True},
        )
    assert response.status_code == 202
    body = response.json()
    assert body["synced"] is False
    assert body["course_progress"] == "100.00"  # PostgreSQL's side is recorded at once

    degraded = await fault_client.get(f"/api/lessons/{lesson['id']}", headers=learner.headers)
    assert degraded.status_code == 200
    assert degraded.json()["degraded"] == ["mongodb"]
    assert degraded.json()["content"] is None

    fault_stack.ferretdb.start()
    progress = fault_app.state.mongo_db.lesson_progress

    async def applied() -> bool:
        document = await progress.find_one({"userId": str(learner.id)})
        return document is not None and document["timeSpent"] == 90

    assert await eventually(applied, attempts=600)
    document = await progress.find_one({"userId": str(learner.id)})
    assert document["completedAt"] is not None


async def test_a_completion_its_rule_must_check_is_a_503_while_mongodb_is_down(
    fault_app: FastAPI,
    fault_client: httpx.AsyncClient,
    fault_stack: Stack,
    teacher: TestUser,
    learner: TestUser,
) -> None:
    """The rule's steps are in the lesson's content: without MongoDB the claim cannot be
    checked, so it is refused as unavailable and nothing is recorded."""
    course = await make_course(fault_client, teacher)
    lesson = await make_lesson(fault_client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(fault_client, learner, course["id"])
    fault_stack.ferretdb.kill()
    try:
        response = await fault_client.put(
            f"/api/lessons/{lesson['id']}/progress",
            headers=learner.headers,
            json={"time_spent_seconds": 90, "completed": True},
        )
    finally:
        fault_stack.ferretdb.start()
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert await pg_scalar(fault_app, "SELECT count(*) FROM lesson_activity") == 0
