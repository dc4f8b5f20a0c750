"""A lesson is completed only when its rule holds; a sequential course opens lessons in order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    make_course,
    make_lesson,
)
from tests.helpers import later, pg_scalar

WRONG_ANSWERS = [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": "a"}]
ALL_STEPS = ["intro", "practice"]


async def progress(
    client: httpx.AsyncClient, learner: TestUser, lesson: dict[str, Any], **body: object
) -> httpx.Response:
    return await client.put(
        f"/api/lessons/{lesson['id']}/progress", headers=learner.headers, json=body
    )


async def quiz(
    client: httpx.AsyncClient, learner: TestUser, lesson: dict[str, Any], answers: list[Any]
) -> dict[str, Any]:
    response = await client.post(
        f"/api/lessons/{lesson['id']}/quiz", headers=learner.headers, json={"answers": answers}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def course_with(
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    *lessons: dict[str, Any],
    sequential: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    course = await make_course(client, teacher)
    if sequential:
        patched = await client.patch(
            f"/api/courses/{course['id']}", headers=teacher.headers, json={"sequential": True}
        )
        assert patched.json()["sequential"] is True
    made = []
    for extra in lessons:
        lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
        if extra:
            response = await client.patch(
                f"/api/lessons/{lesson['id']}", headers=teacher.headers, json=extra
            )
            assert response.status_code == 200, response.text
            lesson = response.json()
        made.append(lesson)
    await enroll(client, learner, course["id"])
    return course, made


async def test_the_two_request_course_completion_of_the_audit_is_refused(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    """Lesson 2 then lesson 1, no step done, 0 seconds, no quiz: nothing completes."""
    _, (first, second) = await course_with(client, teacher, learner, {}, {})
    for lesson in (second, first):
        response = await progress(client, learner, lesson, completed=True)
        assert response.status_code == 409
        problem = response.json()
        assert problem["missing_steps"] == ALL_STEPS
        assert problem["pass_mark"] == 70
        assert problem["best_quiz_percent"] is None
        assert "intro" in problem["detail"]
    assert await pg_scalar(app, "SELECT count(*) FROM lesson_activity") == 0
    events = await pg_scalar(
        app,
        "SELECT count(*) FROM sagas WHERE kind = 'dispatch_event' AND payload->>'type' "
        "IN ('lesson.completed', 'course.completed')",
    )
    assert events == 0


async def test_a_refused_claim_keeps_nothing_of_its_update(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (lesson,) = await course_with(client, teacher, learner, {})
    with later(hours=1):
        response = await progress(
            client,
            learner,
            lesson,
            completed_steps=["intro"],
            time_spent_seconds=600,
            completed=True,
        )
    assert response.status_code == 409
    assert response.json()["missing_steps"] == ["practice"]
    assert await pg_scalar(app, "SELECT count(*) FROM lesson_activity") == 0


async def test_every_step_and_a_passing_quiz_complete_the_lesson_by_themselves(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (lesson, _other) = await course_with(client, teacher, learner, {}, {})
    steps = (await progress(client, learner, lesson, completed_steps=ALL_STEPS)).json()
    assert steps["completed_at"] is None
    assert steps["missing"] == {"missing_steps": [], "pass_mark": 70, "best_quiz_percent": None}
    failed = await quiz(client, learner, lesson, WRONG_ANSWERS)
    assert failed["lesson_completed_at"] is None
    assert failed["missing"]["best_quiz_percent"] == 0.0
    passed = await quiz(client, learner, lesson, PERFECT_ANSWERS)
    assert passed["passed"] is True
    assert passed["lesson_completed_at"] is not None
    assert passed["missing"] is None
    mine = (await client.get("/api/me/progress", headers=learner.headers)).json()["courses"][0]
    assert (mine["lessons_completed"], mine["progress"]) == (1, "50.00")


async def test_a_quiz_below_the_pass_mark_leaves_the_lesson_open(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (lesson,) = await course_with(client, teacher, learner, {"pass_mark": 100})
    await quiz(client, learner, lesson, PERFECT_ANSWERS[:3])  # 5 of 6 points: 83 %
    response = await progress(client, learner, lesson, completed_steps=ALL_STEPS, completed=True)
    assert response.status_code == 409
    assert response.json()["pass_mark"] == 100
    assert response.json()["best_quiz_percent"] == pytest.approx(83.33)


async def test_a_manual_lesson_is_completed_when_the_learner_marks_it(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (lesson,) = await course_with(client, teacher, learner, {"completion": "manual"})
    assert lesson["completion"] == "manual"
    response = await progress(client, learner, lesson, completed=True)
    assert response.status_code == 200, response.text
    assert response.json()["completed_at"] is not None
    assert response.json()["course_progress"] == "100.00"


async def test_a_lesson_without_content_is_completed_when_claimed(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, learner, course["id"])
    response = await progress(client, learner, lesson, completed=True)
    assert response.status_code == 200
    assert response.json()["completed_at"] is not None


async def test_a_sequential_course_opens_each_lesson_after_the_previous_one(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    manual = {"completion": "manual"}
    _, (first, second) = await course_with(
        client, teacher, learner, manual, manual, sequential=True
    )
    refused = await progress(client, learner, second, completed=True)
    assert refused.status_code == 403
    assert refused.json()["opens_after"] == {"lesson_id": first["id"], "title": first["title"]}
    quiz_refused = await client.post(
        f"/api/lessons/{second['id']}/quiz",
        headers=learner.headers,
        json={"answers": PERFECT_ANSWERS},
    )
    assert quiz_refused.status_code == 403
    view = (await client.get(f"/api/lessons/{second['id']}", headers=learner.headers)).json()
    assert (view["locked"], view["content"]) == (True, None)
    assert (await progress(client, learner, first, completed=True)).status_code == 200
    opened = await progress(client, learner, second, completed=True)
    assert opened.status_code == 200
    view = (await client.get(f"/api/lessons/{second['id']}", headers=learner.headers)).json()
    assert view["locked"] is False


async def test_the_teacher_of_a_sequential_course_opens_any_lesson(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (_, second) = await course_with(client, teacher, learner, {}, {}, sequential=True)
    view = (await client.get(f"/api/lessons/{second['id']}", headers=teacher.headers)).json()
    assert view["locked"] is False


@pytest.mark.parametrize(
    "patch",
    [
        {"pass_mark": 101},
        {"pass_mark": -1},
        {"pass_mark": "high"},
        {"completion": "automatic"},
        {"show_answers": "sometimes"},
        {"completion": None, "pass_mark": 50.5},
    ],
)
async def test_bad_lesson_policies_are_a_422(
    client: httpx.AsyncClient, teacher: TestUser, patch: dict[str, object]
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    response = await client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json=patch
    )
    assert response.status_code == 422
    unchanged = await client.get(f"/api/courses/{course['id']}/lessons", headers=teacher.headers)
    assert unchanged.json()[0]["pass_mark"] == 70


async def test_completed_lessons_stay_completed_when_their_content_grows(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    _, (lesson,) = await course_with(client, teacher, learner, {"completion": "manual"})
    done = (await progress(client, learner, lesson, completed=True)).json()["completed_at"]
    await client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json={"completion": "requirements"}
    )
    again = await progress(client, learner, lesson, completed=True)
    assert again.status_code == 200
    assert again.json()["completed_at"] == done
