"""Recording progress: rules, exact totals, and concurrency."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import SAMPLE_CONTENT, TestUser, enroll, make_course, make_lesson
from tests.helpers import later, pg_scalar


async def put_progress(
    client: httpx.AsyncClient, learner: TestUser, lesson_id: object, **body: object
) -> httpx.Response:
    return await client.put(
        f"/api/lessons/{lesson_id}/progress", headers=learner.headers, json=body
    )


async def test_progress_needs_an_enrollment(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    response = await put_progress(client, learner, lesson["id"], time_spent_seconds=30)
    assert response.status_code == 403
    quiz = await client.post(
        f"/api/lessons/{lesson['id']}/quiz",
        headers=learner.headers,
        json={"answers": [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": "b"}]},
    )
    assert quiz.status_code == 403


async def test_unpublished_lessons_are_not_found_for_learners(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    draft = await make_lesson(client, teacher, course["id"], published=False)
    await enroll(client, learner, course["id"])
    assert (await put_progress(client, learner, draft["id"], completed=True)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"time_spent_seconds": -1},
        {"time_spent_seconds": 4 * 3600 + 1},
        {"time_spent_seconds": "lots"},
        {"completed_steps": ["no-such-step"]},
        {"completed_steps": ["bad id!"]},
        {"notes": "x" * 10_001},
        {"completed": True, "progress": 100},
    ],
)
async def test_bad_progress_is_a_422_and_records_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    body: dict[str, object],
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    response = await put_progress(client, learner, lesson["id"], **body)
    assert response.status_code == 422
    assert await pg_scalar(app, "SELECT count(*) FROM lesson_activity") == 0
    assert await app.state.mongo_db.lesson_progress.count_documents({}) == 0


async def test_completing_lessons_moves_the_course_progress_and_sets_completed_at(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    first = await make_lesson(client, teacher, course["id"])
    second = await make_lesson(client, teacher, course["id"])
    await make_lesson(client, teacher, course["id"], published=False)  # does not count
    await enroll(client, learner, course["id"])

    half = (await put_progress(client, learner, first["id"], completed=True)).json()
    assert half["course_progress"] == "50.00"
    assert half["course_completed_at"] is None
    assert half["synced"] is True
    again = (await put_progress(client, learner, first["id"], completed=True)).json()
    assert again["course_progress"] == "50.00"
    done = (await put_progress(client, learner, second["id"], completed=True)).json()
    assert done["course_progress"] == "100.00"
    assert done["course_completed_at"] is not None

    # A new published lesson changes what 100% means.
    third = await make_lesson(client, teacher, course["id"])
    mine = (await client.get("/api/me/enrollments", headers=learner.headers)).json()["items"][0]
    assert mine["progress"] == "66.67"
    assert mine["completed_at"] is None
    await client.post(f"/api/lessons/{third['id']}/unpublish", headers=teacher.headers)
    mine = (await client.get("/api/me/enrollments", headers=learner.headers)).json()["items"][0]
    assert mine["progress"] == "100.00"


async def test_time_adds_up_and_steps_and_notes_are_kept_in_mongodb(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    with later(minutes=2):
        await put_progress(
            client,
            learner,
            lesson["id"],
            completed_steps=["intro"],
            time_spent_seconds=120,
            notes="v1",
        )
    with later(minutes=3):
        second = await put_progress(
            client,
            learner,
            lesson["id"],
            completed_steps=["practice", "mc1"],
            time_spent_seconds=30,
        )
    assert second.json()["time_spent_seconds"] == 150
    detail = (await client.get(f"/api/lessons/{lesson['id']}", headers=learner.headers)).json()[
        "my_progress"
    ]
    assert sorted(detail["completed_steps"]) == ["intro", "mc1", "practice"]
    assert detail["time_spent_seconds"] == 150
    assert detail["notes"] == "v1"


async def test_concurrent_completions_of_different_lessons_lose_no_update(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lessons = [await make_lesson(client, teacher, course["id"]) for _ in range(12)]
    await enroll(client, learner, course["id"])
    with later(hours=6):
        responses = await asyncio.gather(
            *(
                put_progress(client, learner, lesson["id"], completed=True, time_spent_seconds=60)
                for lesson in lessons
            )
        )
    assert all(r.status_code == 200 for r in responses)
    mine = (await client.get("/api/me/enrollments", headers=learner.headers)).json()["items"][0]
    assert mine["progress"] == "100.00"
    assert mine["completed_at"] is not None
    # Twelve claims of the same last minute: one minute and the slack (honest time).
    credited = sum(r.json()["time_credited_seconds"] for r in responses)
    assert credited == 60 + 60
    assert await pg_scalar(app, "SELECT sum(time_spent_seconds) FROM lesson_activity") == credited
    learning = (await client.get("/api/me/progress", headers=learner.headers)).json()["courses"][0]
    assert learning["lessons_completed"] == learning["lessons_total"] == 12
    assert learning["time_spent_seconds"] == credited


async def test_concurrent_time_on_one_lesson_is_counted_exactly(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    with later(hours=1):
        responses = await asyncio.gather(
            *(put_progress(client, learner, lesson["id"], time_spent_seconds=10) for _ in range(15))
        )
    # Each is credited what the wall clock allows (the first 10 s, the rest share the 60 s
    # slack: honest time, tests/progress/test_honest_time.py), and none is lost.
    credited = sum(r.json()["time_credited_seconds"] for r in responses)
    assert credited == 10 + 60
    assert await pg_scalar(app, "SELECT time_spent_seconds FROM lesson_activity") == credited


async def test_completion_publishes_lesson_and_course_events(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    await put_progress(client, learner, lesson["id"], completed=True)
    kinds = await pg_scalar(
        app,
        "SELECT array_agg(payload->>'type' ORDER BY created_at) FROM sagas "
        "WHERE kind = 'dispatch_event'",
    )
    assert kinds == ["enrollment.created", "lesson.completed", "course.completed"]


async def test_my_progress_aggregates_both_databases_per_course(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher, title="Aggregated")
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await make_lesson(client, teacher, course["id"])
    other = await make_course(client, teacher, title="Untouched")
    await enroll(client, learner, course["id"])
    await enroll(client, learner, other["id"])
    with later(minutes=5):
        await put_progress(
            client,
            learner,
            lesson["id"],
            completed_steps=["intro", "practice"],
            time_spent_seconds=300,
        )
    await client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json={"pass_mark": 30}
    )
    for answer in ("b", "a"):
        await client.post(
            f"/api/lessons/{lesson['id']}/quiz",
            headers=learner.headers,
            json={
                "answers": [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": answer}]
            },
        )
    body = (await client.get("/api/me/progress", headers=learner.headers)).json()
    assert body["degraded"] == []
    by_title = {c["course_title"]: c for c in body["courses"]}
    aggregated = by_title["Aggregated"]
    assert aggregated["progress"] == "50.00"
    assert (aggregated["lessons_completed"], aggregated["lessons_total"]) == (1, 2)
    assert aggregated["time_spent_seconds"] == 300
    assert aggregated["last_activity_at"] is not None
    assert aggregated["quiz_attempts"] == 2
    # 2 of 6 gradable points, then 0: (33.33 + 0) / 2
    assert aggregated["quiz_average_percent"] == pytest.approx(16.665, abs=0.01)
    assert by_title["Untouched"]["quiz_attempts"] == 0
    assert by_title["Untouched"]["time_spent_seconds"] == 0
