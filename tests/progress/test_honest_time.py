"""Time spent is bounded by the wall clock: what every update together is credited never
exceeds the real time since the learner's first study, plus STUDY_TIME_SLACK_SECONDS."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.factories import TestUser, enroll, make_course, make_lesson
from tests.helpers import later, pg_scalar

SLACK = 60  # the default STUDY_TIME_SLACK_SECONDS


async def put_time(
    client: httpx.AsyncClient, learner: TestUser, lesson: dict[str, object], seconds: int
) -> httpx.Response:
    return await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"time_spent_seconds": seconds},
    )


async def total_time(app: FastAPI) -> int:
    return int(
        await pg_scalar(app, "SELECT coalesce(sum(time_spent_seconds), 0) FROM lesson_activity")
    )


async def test_a_claim_right_after_enrolling_gets_only_the_slack(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    response = await put_time(client, learner, lesson, 4 * 3600)
    assert response.status_code == 200
    assert response.json()["time_credited_seconds"] <= SLACK
    assert await total_time(app) <= SLACK


async def test_rapid_calls_cannot_add_up_to_more_than_the_time_that_passed(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    with later(minutes=10):
        first = await put_time(client, learner, lesson, 600)
        again = [await put_time(client, learner, lesson, 600) for _ in range(5)]
    assert first.json()["time_credited_seconds"] == 600
    assert sum(r.json()["time_credited_seconds"] for r in again) <= SLACK
    with later(minutes=25):  # 15 minutes later: 15 minutes more, however much is claimed
        assert (await put_time(client, learner, lesson, 4 * 3600)).json()[
            "time_credited_seconds"
        ] <= 15 * 60 + SLACK
    assert await total_time(app) <= 25 * 60 + SLACK


async def test_parallel_updates_on_several_courses_share_one_clock(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    lessons = []
    for _ in range(3):
        course = await make_course(client, teacher)
        lessons.append(await make_lesson(client, teacher, course["id"]))
        await enroll(client, learner, course["id"])
    with later(minutes=30):
        responses = await asyncio.gather(
            *(put_time(client, learner, lesson, 1800) for lesson in lessons for _ in range(4))
        )
    assert all(r.status_code == 200 for r in responses)
    credited = sum(r.json()["time_credited_seconds"] for r in responses)
    assert await total_time(app) == credited
    assert 30 * 60 <= credited <= 30 * 60 + SLACK  # one learner, one half hour: not twelve


async def test_time_studied_honestly_is_counted_in_full(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    for minute in (5, 10, 20):
        with later(minutes=minute):
            await put_time(client, learner, lesson, 300)
    assert await total_time(app) == 900


async def test_each_learner_has_their_own_clock(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    alice: TestUser,
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    await enroll(client, alice, course["id"])
    with later(minutes=10):
        await asyncio.gather(
            put_time(client, learner, lesson, 600), put_time(client, alice, lesson, 600)
        )
    assert await total_time(app) == 1200
