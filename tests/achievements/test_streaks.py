"""Study days and streaks in the learner's time zone (their `timezone` setting)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.core import clock
from oneenglish.events import service as events
from oneenglish.subscribers.engagement import award_achievements
from tests.factories import TestUser

NOW = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)  # 13:00 in Los Angeles, 10:00 next day in Auckland


async def study(app: FastAPI, user: TestUser, at: datetime) -> None:
    await award_achievements(
        app.state.mongo_db,
        events.DomainEvent(
            id=str(uuid.uuid4()),
            type=events.QUIZ_SUBMITTED,
            user_id=str(user.id),
            data={"courseId": "c", "lessonId": "l", "percent": 50},
            occurred_at=at,
        ),
    )


async def set_zone(client: httpx.AsyncClient, user: TestUser, zone: str) -> httpx.Response:
    return await client.patch(
        f"/api/users/{user.id}/settings",
        headers=user.headers,
        json={"settings": {"timezone": zone}},
    )


async def streak(client: httpx.AsyncClient, user: TestUser) -> dict[str, object]:
    with clock.simulated(NOW):
        response = await client.get("/api/me/streak", headers=user.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_days_are_the_learners_own_not_utcs(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    assert (await set_zone(client, alice, "America/Los_Angeles")).status_code == 200
    # One UTC day, two days in Los Angeles: 22:00 on the 29th and 12:00 on the 30th.
    await study(app, alice, datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    await study(app, alice, datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    mine = await streak(client, alice)
    assert mine == {
        "current": 2,
        "longest": 2,
        "today_done": True,
        "today": "2026-11-30",
        "time_zone": "America/Los_Angeles",
        "last_study_day": "2026-11-30",
        "days_studied": 2,
    }


async def test_the_streak_achievements_count_the_same_days(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    await set_zone(client, alice, "Pacific/Auckland")
    # 11:00 UTC is 00:00 the next day in Auckland (UTC+13): three Auckland days in 26 hours.
    for at in (
        datetime(2026, 11, 28, 10, 30, tzinfo=UTC),
        datetime(2026, 11, 28, 11, 30, tzinfo=UTC),
        datetime(2026, 11, 29, 11, 30, tzinfo=UTC),
    ):
        await study(app, alice, at)
    awards = app.state.mongo_db.achievements.find({"userId": str(alice.id), "type": "study_streak"})
    assert [d["metadata"]["days"] async for d in awards] == [3]


async def test_a_streak_survives_until_the_end_of_the_next_day(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    for days_ago in (5, 4, 3, 1):  # UTC: a 3-day run, a gap, then yesterday
        await study(app, alice, NOW - timedelta(days=days_ago))
    mine = await streak(client, alice)
    assert (mine["current"], mine["longest"], mine["today_done"]) == (1, 3, False)
    assert mine["time_zone"] == "UTC"


async def test_no_study_yet_is_a_zero_streak(client: httpx.AsyncClient, alice: TestUser) -> None:
    mine = await streak(client, alice)
    assert (mine["current"], mine["longest"], mine["last_study_day"]) == (0, 0, None)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", 5, "utc+2"])
async def test_an_unknown_time_zone_is_a_422(
    client: httpx.AsyncClient, alice: TestUser, zone: object
) -> None:
    response = await client.patch(
        f"/api/users/{alice.id}/settings",
        headers=alice.headers,
        json={"settings": {"timezone": zone}},
    )
    assert response.status_code == 422
    settings = (await client.get(f"/api/users/{alice.id}/settings", headers=alice.headers)).json()
    assert settings["settings"]["timezone"] == "UTC"
