"""The reports built on the activity history: active learners per period (of a course, and
the platform's daily and weekly active users) and the average score per quiz exercise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    make_course,
    make_lesson,
)
from tests.helpers import later

TODAY = datetime.now(UTC).date()


async def study(client: httpx.AsyncClient, learner: TestUser, lesson_id: str, days: int) -> None:
    with later(hours=24 * days):
        response = await client.put(
            f"/api/lessons/{lesson_id}/progress",
            headers=learner.headers,
            json={"time_spent_seconds": 60},
        )
    assert response.status_code == 200, response.text


def span(first: int, last: int, bucket: str = "day") -> dict[str, str]:
    return {
        "from": (TODAY + timedelta(days=first)).isoformat(),
        "to": (TODAY + timedelta(days=last)).isoformat(),
        "bucket": bucket,
    }


async def test_active_learners_count_each_learner_once_a_period(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser
) -> None:
    course = await make_course(client, teacher)
    first = await make_lesson(client, teacher, course["id"])
    second = await make_lesson(client, teacher, course["id"])
    for learner in (alice, bob):
        await enroll(client, learner, course["id"])
    await study(client, alice, first["id"], 0)
    await study(client, alice, second["id"], 0)  # the same day: still one learner
    await study(client, bob, first["id"], 0)
    await study(client, alice, first["id"], 2)
    url = f"/api/reports/courses/{course['id']}/active-learners"

    daily = (await client.get(url, headers=teacher.headers, params=span(0, 3))).json()
    assert [(p["period_start"][:10], p["count"]) for p in daily["points"]] == [
        (TODAY.isoformat(), 2),
        ((TODAY + timedelta(days=2)).isoformat(), 1),
    ]
    assert daily["total"] is None  # a sum of active learners would count alice twice
    weekly = (await client.get(url, headers=teacher.headers, params=span(0, 3, "week"))).json()
    assert sum(p["count"] for p in weekly["points"]) in (2, 3)  # alice once a week
    assert max(p["count"] for p in weekly["points"]) == 2
    later_only = (await client.get(url, headers=teacher.headers, params=span(1, 3))).json()
    assert [p["count"] for p in later_only["points"]] == [1]


async def test_daily_active_users_count_a_learner_once_across_courses(
    client: httpx.AsyncClient, teacher: TestUser, admin: TestUser, alice: TestUser
) -> None:
    day = 211  # a day no other test studies on
    lessons = []
    for _ in range(2):
        course = await make_course(client, teacher)
        lessons.append(await make_lesson(client, teacher, course["id"]))
        await enroll(client, alice, course["id"])
    for lesson in lessons:
        await study(client, alice, lesson["id"], day)
    url = "/api/reports/platform/active-users"
    report = (await client.get(url, headers=admin.headers, params=span(day, day))).json()
    assert [p["count"] for p in report["points"]] == [1]
    assert (await client.get(url, headers=teacher.headers)).status_code == 403


async def quiz(
    client: httpx.AsyncClient, learner: TestUser, lesson_id: str, answers: list[dict[str, object]]
) -> None:
    response = await client.post(
        f"/api/lessons/{lesson_id}/quiz", headers=learner.headers, json={"answers": answers}
    )
    assert response.status_code == 200, response.text


async def test_the_hardest_exercises_come_first(
    client: httpx.AsyncClient,
    teacher: TestUser,
    other_teacher: TestUser,
    alice: TestUser,
    bob: TestUser,
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    for learner in (alice, bob):
        await enroll(client, learner, course["id"])
    await quiz(client, alice, lesson["id"], PERFECT_ANSWERS)
    await quiz(client, bob, lesson["id"], PERFECT_ANSWERS[:1])  # only the choice, right
    await quiz(client, bob, lesson["id"], PERFECT_ANSWERS[:2])  # and the blanks
    url = f"/api/reports/courses/{course['id']}/exercises"

    report = (await client.get(url, headers=teacher.headers)).json()
    stats = {e["exercise_id"]: e for e in report["exercises"]}
    assert list(stats) == ["ft1", "m1", "fb1", "mc1"]  # a tie: by exercise id
    assert [e["average_percent"] for e in report["exercises"]] == [
        33.33,
        33.33,
        66.67,
        100.0,
    ]
    choice = stats["mc1"]
    assert (choice["attempts"], choice["learners"], choice["correct_rate"]) == (3, 2, 100.0)
    assert choice["prompt"] == SAMPLE_CONTENT["exercises"][0]["prompt"]  # type: ignore[index]
    assert (choice["lesson_title"], choice["lesson_order"]) == (lesson["title"], 1)
    assert choice["type"] == "multiple_choice"

    csv = await client.get(url, headers=teacher.headers, params={"format": "csv"})
    lines = csv.text.splitlines()
    assert lines[0] == (
        "lesson_order,lesson_title,exercise_id,type,prompt,attempts,learners,"
        "average_percent,correct_rate"
    )
    assert len(lines) == 5
    assert lines[-1].startswith(f"1,{lesson['title']},mc1,")

    bounded = (await client.get(url, headers=teacher.headers, params={"limit": 1})).json()
    assert len(bounded["exercises"]) == 1
    before = span(-30, -1, "week")
    del before["bucket"]
    empty = (await client.get(url, headers=teacher.headers, params=before)).json()
    assert empty["exercises"] == []
    assert (await client.get(url, headers=other_teacher.headers)).status_code == 403
    assert (await client.get(url, headers=alice.headers)).status_code in (403, 404)
    too_many = await client.get(url, headers=teacher.headers, params={"limit": 501})
    assert too_many.status_code == 422
