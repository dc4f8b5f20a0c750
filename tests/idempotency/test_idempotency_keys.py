"""A creating POST retried with the same Idempotency-Key gets its first outcome, not a second
creation or a 409; the same key with another request is a 422."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.core.test_problems import assert_problem
from tests.factories import (
    PASSWORD,
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    logged_in,
    make_course,
    make_lesson,
)
from tests.helpers import pg_scalar


def keyed(user: TestUser | None = None, key: str | None = None) -> dict[str, str]:
    headers = dict(user.headers) if user else {}
    headers["Idempotency-Key"] = key or str(uuid.uuid4())
    return headers


def signup(n: str) -> dict[str, str]:
    return {"email": f"idem{n}@example.com", "username": f"idem_{n}", "password": PASSWORD}


async def test_a_retried_sign_up_gets_the_first_account_back(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = keyed()
    first = await client.post("/api/auth/register", json=signup("a"), headers=headers)
    again = await client.post("/api/auth/register", json=signup("a"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await pg_scalar(app, "SELECT count(*) FROM users") == 1
    without_key = await client.post("/api/auth/register", json=signup("a"))
    assert without_key.status_code == 409


async def test_the_same_key_with_another_request_is_a_422(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = keyed()
    assert (
        await client.post("/api/auth/register", json=signup("b"), headers=headers)
    ).status_code == 201
    other = await client.post("/api/auth/register", json=signup("c"), headers=headers)
    assert_problem(other, 422)
    assert await pg_scalar(app, "SELECT count(*) FROM users") == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "semi;colon"])
async def test_a_malformed_key_is_a_422(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post(
        "/api/auth/register", json=signup("d"), headers={"Idempotency-Key": key}
    )
    assert_problem(response, 422)


async def test_concurrent_requests_with_one_key_create_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = keyed()
    responses = await asyncio.gather(
        *(client.post("/api/auth/register", json=signup("e"), headers=headers) for _ in range(4))
    )
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    assert all(r.status_code in (201, 409) for r in responses)
    assert await pg_scalar(app, "SELECT count(*) FROM users") == 1


async def test_a_retried_enrolment_is_the_first_enrolment_not_a_409(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    learner = await logged_in(app, client)
    headers = keyed(learner)
    url = f"/api/courses/{course['id']}/enrollments"
    first, again = [await client.post(url, headers=headers) for _ in range(2)]
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert (await client.post(url, headers=learner.headers)).status_code == 409


async def test_keys_belong_to_their_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    one, two = await logged_in(app, client), await logged_in(app, client)
    url = f"/api/courses/{course['id']}/enrollments"
    a = await client.post(url, headers=keyed(one, "shared-key"))
    b = await client.post(url, headers=keyed(two, "shared-key"))
    assert a.status_code == b.status_code == 201
    assert a.json()["user_id"] != b.json()["user_id"]


async def test_a_retried_message_is_stored_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    for user in (alice, bob):
        await enroll(client, user, course["id"])
    headers = keyed(alice)
    url = f"/api/chat/direct/{bob.id}/messages"
    first, again = [
        await client.post(url, headers=headers, json={"message": "once"}) for _ in range(2)
    ]
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    mongo = app.state.mongo_db
    assert await mongo.chat_messages.count_documents({"message": "once"}) == 1
    direct = {"userId": str(bob.id), "type": "direct_message"}
    assert await mongo.notifications.count_documents(direct) == 1
    other = await client.post(url, headers=headers, json={"message": "something else"})
    assert_problem(other, 422)


async def test_a_retried_quiz_attempt_is_graded_and_stored_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    learner = await logged_in(app, client)
    await enroll(client, learner, course["id"])
    headers = keyed(learner)
    url = f"/api/lessons/{lesson['id']}/quiz"
    first, again = [
        await client.post(url, headers=headers, json={"answers": PERFECT_ANSWERS}) for _ in range(2)
    ]
    assert first.status_code == again.status_code == 200
    assert again.json()["attempt_id"] == first.json()["attempt_id"]
    assert again.json()["recorded"] is True
    progress = await app.state.mongo_db.lesson_progress.find_one(
        {"_id": f"{learner.id}:{lesson['id']}"}
    )
    assert progress["quizAttempts"] == 1


async def test_an_erased_users_keys_go_with_them(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/register", json=signup("f"), headers=keyed())
    user = response.json()
    login = await client.post(
        "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    token = login.json()["access_token"]
    await client.delete(f"/api/users/{user['id']}", headers={"Authorization": f"Bearer {token}"})
    assert await pg_scalar(app, "SELECT count(*) FROM idempotency_keys") == 0
