"""Quiz grading on the server against keys the learner never sees."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import (
    ANSWER_KEY_FIELDS,
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    make_course,
    make_lesson,
)


@pytest.fixture
async def quiz_url(client: httpx.AsyncClient, teacher: TestUser, learner: TestUser) -> str:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    return f"/api/lessons/{lesson['id']}/quiz"


async def test_a_perfect_attempt(
    client: httpx.AsyncClient, learner: TestUser, quiz_url: str
) -> None:
    response = await client.post(
        quiz_url, headers=learner.headers, json={"answers": PERFECT_ANSWERS}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["max_score"], body["percent"], body["perfect"]) == (
        6,
        6,
        100.0,
        True,
    )
    assert body["recorded"] is True
    assert (body["passed"], body["pass_mark"], body["answers_shown"]) == (True, 70, True)


async def test_each_exercise_is_scored_and_partial_credit_is_given(
    client: httpx.AsyncClient, learner: TestUser, quiz_url: str
) -> None:
    answers = [
        {"type": "multiple_choice", "exercise_id": "mc1", "option_id": "a"},
        {"type": "fill_in_blank", "exercise_id": "fb1", "blanks": ["speak", "speak"]},
        {"type": "matching", "exercise_id": "m1", "pairs": {"hot": "cold", "big": "cold"}},
        {"type": "free_text", "exercise_id": "ft1", "text": "I wake at seven."},
    ]
    body = (await client.post(quiz_url, headers=learner.headers, json={"answers": answers})).json()
    points = {r["exercise_id"]: r["points"] for r in body["results"]}
    assert points == {"mc1": 0, "fb1": 1.0, "m1": 0.5, "ft1": 0}
    assert body["score"] == 1.5
    assert body["perfect"] is False


async def test_unanswered_exercises_score_zero(
    client: httpx.AsyncClient, learner: TestUser, quiz_url: str
) -> None:
    answers = [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": "b"}]
    body = (await client.post(quiz_url, headers=learner.headers, json={"answers": answers})).json()
    assert (body["score"], body["max_score"]) == (2, 6)


@pytest.mark.parametrize(
    "answer",
    [
        {"type": "multiple_choice", "exercise_id": "nope", "option_id": "b"},
        {"type": "fill_in_blank", "exercise_id": "mc1", "blanks": ["x"]},
        {"type": "multiple_choice", "exercise_id": "mc1", "option_id": "z"},
        {"type": "fill_in_blank", "exercise_id": "fb1", "blanks": ["only one"]},
        {"type": "matching", "exercise_id": "m1", "pairs": {"cold": "hot"}},
        {"type": "multiple_choice", "exercise_id": "mc1"},
        {"type": "essay", "exercise_id": "ft1", "text": "x"},
    ],
)
async def test_bad_answers_are_a_422_and_record_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    quiz_url: str,
    answer: dict[str, object],
) -> None:
    response = await client.post(quiz_url, headers=learner.headers, json={"answers": [answer]})
    assert response.status_code == 422
    assert await app.state.mongo_db.lesson_progress.count_documents({}) == 0


async def test_the_same_exercise_twice_is_a_422(
    client: httpx.AsyncClient, learner: TestUser, quiz_url: str
) -> None:
    answer = {"type": "multiple_choice", "exercise_id": "mc1", "option_id": "b"}
    response = await client.post(
        quiz_url, headers=learner.headers, json={"answers": [answer, answer]}
    )
    assert response.status_code == 422


async def test_attempts_are_stored_and_a_perfect_score_is_an_event(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, quiz_url: str
) -> None:
    await client.post(quiz_url, headers=learner.headers, json={"answers": PERFECT_ANSWERS})
    await client.post(
        quiz_url,
        headers=learner.headers,
        json={"answers": [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": "a"}]},
    )
    document = await app.state.mongo_db.lesson_progress.find_one({"userId": str(learner.id)})
    assert document["quizAttempts"] == 2
    assert [a["percent"] for a in document["quizResults"]] == [100.0, 0.0]
    assert document["bestPercent"] == 100.0
    async with app.state.engine.connect() as conn:
        from sqlalchemy import text

        perfect = await conn.scalar(
            text("SELECT count(*) FROM sagas WHERE payload->>'type' = 'quiz.perfect'")
        )
    assert perfect == 1


async def test_no_learner_response_ever_carries_an_answer_key(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, quiz_url: str
) -> None:
    lesson_id = quiz_url.split("/")[3]
    await client.post(quiz_url, headers=learner.headers, json={"answers": PERFECT_ANSWERS})
    await client.put(
        f"/api/lessons/{lesson_id}/progress",
        headers=learner.headers,
        json={"completed_steps": ["mc1"]},
    )
    for path in (f"/api/lessons/{lesson_id}", "/api/me/progress", "/api/me/enrollments"):
        response = await client.get(path, headers=learner.headers)
        assert response.status_code == 200
        for field in ANSWER_KEY_FIELDS:
            assert field not in response.text, (path, field)
    export = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    for field in ("correct_option_id", "accepted_answers", "explanation"):
        assert field not in export.text
