"""Enrolling, leaving, and who sees a course's learners."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import SAMPLE_CONTENT, TestUser, enroll, logged_in, make_course, make_lesson
from tests.helpers import pg_scalar


async def test_enrolling_twice_is_a_409(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    enrollment = await enroll(client, learner, course["id"])
    assert enrollment["progress"] == "0.00" or float(enrollment["progress"]) == 0
    again = await client.post(f"/api/courses/{course['id']}/enrollments", headers=learner.headers)
    assert again.status_code == 409


async def test_drafts_cannot_be_joined(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, admin: TestUser
) -> None:
    draft = await make_course(client, teacher, published=False)
    url = f"/api/courses/{draft['id']}/enrollments"
    assert (await client.post(url, headers=learner.headers)).status_code == 404
    assert (await client.post(url, headers=admin.headers)).status_code == 409


async def test_my_enrollments_list_the_courses(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    first = await make_course(client, teacher, title="First steps")
    second = await make_course(client, teacher, title="Second steps")
    await enroll(client, learner, first["id"])
    await enroll(client, learner, second["id"])
    mine = (await client.get("/api/me/enrollments", headers=learner.headers)).json()
    assert mine["total"] == 2
    assert {e["course"]["title"] for e in mine["items"]} == {"First steps", "Second steps"}


async def test_only_the_teacher_or_an_admin_see_a_courses_learners(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    other_teacher: TestUser,
    learner: TestUser,
    admin: TestUser,
) -> None:
    course = await make_course(client, teacher)
    await enroll(client, learner, course["id"])
    url = f"/api/courses/{course['id']}/enrollments"
    assert (await client.get(url, headers=teacher.headers)).json()["total"] == 1
    assert (await client.get(url, headers=admin.headers)).json()["total"] == 1
    assert (await client.get(url, headers=other_teacher.headers)).status_code == 403
    assert (await client.get(url, headers=learner.headers)).status_code == 403


async def test_leaving_a_course_removes_the_enrollment_and_its_progress(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    enrollment = await enroll(client, learner, course["id"])
    await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"completed_steps": ["intro"], "time_spent_seconds": 60},
    )
    assert (
        await app.state.mongo_db.lesson_progress.count_documents({"enrollmentId": enrollment["id"]})
        == 1
    )

    stranger = await logged_in(app, client)
    assert (
        await client.delete(f"/api/enrollments/{enrollment['id']}", headers=stranger.headers)
    ).status_code == 404
    left = await client.delete(f"/api/enrollments/{enrollment['id']}", headers=learner.headers)
    assert left.status_code == 204
    assert await pg_scalar(app, "SELECT count(*) FROM enrollments") == 0
    assert await pg_scalar(app, "SELECT count(*) FROM lesson_activity") == 0
    assert (
        await app.state.mongo_db.lesson_progress.count_documents({"enrollmentId": enrollment["id"]})
        == 0
    )
    progress = await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"time_spent_seconds": 5},
    )
    assert progress.status_code == 403


async def test_a_course_with_learners_is_deleted_only_when_an_admin_forces_it(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, admin: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    await client.put(
        f"/api/lessons/{lesson['id']}/progress", headers=learner.headers, json={"completed": True}
    )
    url = f"/api/courses/{course['id']}"
    refused = await client.delete(url, headers=teacher.headers)
    assert refused.status_code == 409
    assert refused.json()["enrollments"] == 1
    assert (
        await client.delete(url, params={"force": True}, headers=teacher.headers)
    ).status_code == 403
    assert (
        await client.delete(url, params={"force": True}, headers=admin.headers)
    ).status_code == 204
    for table in ("courses", "lessons", "enrollments", "lesson_activity"):
        assert await pg_scalar(app, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    mongo = app.state.mongo_db
    assert await mongo.lesson_contents.count_documents({"courseId": course["id"]}) == 0
    assert await mongo.lesson_progress.count_documents({"courseId": course["id"]}) == 0


async def test_a_course_without_learners_is_deleted_by_its_teacher(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    assert (
        await client.delete(f"/api/courses/{course['id']}", headers=teacher.headers)
    ).status_code == 204
    assert await app.state.mongo_db.lesson_contents.count_documents({}) == 0
