"""Notifications created by events; read, filtered and paged by their owner only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.events import service as events
from oneenglish.subscribers.engagement import notify_learner
from tests.factories import TestUser, enroll, logged_in, make_course, make_lesson
from tests.helpers import eventually


@pytest.fixture
async def bob(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    """Staff: may message anyone (learners message only people they share a course with)."""
    return await logged_in(app, client, roles=("admin",))


async def inbox(client: httpx.AsyncClient, user: TestUser, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/me/notifications", headers=user.headers, params=params)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def types_of(client: httpx.AsyncClient, user: TestUser) -> list[str]:
    items = (await inbox(client, user, limit=100))["items"]
    assert isinstance(items, list)
    return [i["type"] for i in items]


async def test_enrolling_and_completing_notify_the_learner(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, alice: TestUser
) -> None:
    course = await make_course(client, teacher, title="Travel English")
    lesson = await make_lesson(client, teacher, course["id"])
    await enroll(client, alice, course["id"])
    await client.put(
        f"/api/lessons/{lesson['id']}/progress", headers=alice.headers, json={"completed": True}
    )

    async def all_arrived() -> bool:
        kinds = await types_of(client, alice)
        return {"enrolled", "lesson_completed", "course_completed", "achievement_earned"} <= set(
            kinds
        )

    assert await eventually(all_arrived, attempts=300)
    items = (await inbox(client, alice, limit=100))["items"]
    enrolled = next(i for i in items if i["type"] == "enrolled")
    assert "Travel English" in enrolled["message"]


async def test_a_late_subscriber_files_its_notification_at_the_time_of_its_cause(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    """An enrolment whose notification is written after a later message (a retried saga)
    still sorts below that message: the inbox is in the order things happened."""
    enrolled_at = datetime.now(UTC) - timedelta(minutes=5)
    await client.post(
        f"/api/chat/direct/{alice.id}/messages", headers=bob.headers, json={"message": "hi"}
    )
    late = events.DomainEvent(
        id=str(uuid.uuid4()),
        type=events.ENROLLED,
        user_id=str(alice.id),
        data={"courseId": str(uuid.uuid4()), "courseTitle": "Business English"},
        occurred_at=enrolled_at,
    )
    await notify_learner(app.state.mongo_db, late)
    items = (await inbox(client, alice))["items"]
    assert [i["type"] for i in items[:2]] == ["direct_message", "enrolled"]
    assert items[1]["created_at"].startswith(enrolled_at.strftime("%Y-%m-%dT%H:%M"))


async def test_mark_one_and_all_read_and_count_unread(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    for n in range(3):
        await client.post(
            f"/api/chat/direct/{alice.id}/messages", headers=bob.headers, json={"message": f"m{n}"}
        )
    count = await client.get("/api/me/notifications/unread-count", headers=alice.headers)
    assert count.json() == {"unread": 3}
    first = (await inbox(client, alice))["items"][0]
    read = await client.post(f"/api/me/notifications/{first['id']}/read", headers=alice.headers)
    assert read.status_code == 200
    assert read.json()["is_read"] is True
    assert read.json()["read_at"] is not None
    unread = (await inbox(client, alice, unread=True))["items"]
    assert len(unread) == 2
    assert (await client.post("/api/me/notifications/read-all", headers=alice.headers)).json() == {
        "marked": 2
    }
    assert (
        await client.get("/api/me/notifications/unread-count", headers=alice.headers)
    ).json() == {"unread": 0}


async def test_another_users_notification_cannot_be_read_or_marked(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    await client.post(
        f"/api/chat/direct/{alice.id}/messages", headers=bob.headers, json={"message": "secret"}
    )
    mine = (await inbox(client, alice))["items"][0]
    attempt = await client.post(f"/api/me/notifications/{mine['id']}/read", headers=bob.headers)
    assert attempt.status_code == 404
    assert (await inbox(client, bob))["items"] == []
    still_unread = await client.get("/api/me/notifications/unread-count", headers=alice.headers)
    assert still_unread.json() == {"unread": 1}


async def test_the_inbox_pages_with_a_cursor_and_rejects_a_forged_one(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    for n in range(5):
        await client.post(
            f"/api/chat/direct/{alice.id}/messages", headers=bob.headers, json={"message": f"m{n}"}
        )
    first = await inbox(client, alice, limit=2)
    second = await inbox(client, alice, limit=2, cursor=first["next_cursor"])
    third = await inbox(client, alice, limit=2, cursor=second["next_cursor"])
    seen = [i["message"] for page in (first, second, third) for i in page["items"]]
    assert seen == ["m4", "m3", "m2", "m1", "m0"]
    assert third["next_cursor"] is None
    forged = await client.get(
        "/api/me/notifications",
        headers=alice.headers,
        params={"cursor": str(first["next_cursor"])[::-1]},
    )
    assert forged.status_code == 400
    chat_cursor_elsewhere = await client.get(
        f"/api/chat/direct/{bob.id}/messages",
        headers=alice.headers,
        params={"cursor": first["next_cursor"]},
    )
    assert chat_cursor_elsewhere.status_code == 400
