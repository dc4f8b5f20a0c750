"""Requests by authenticated users become user_activities entries, written in the background."""

from __future__ import annotations

import asyncio
import base64
import uuid

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.activity.service import ActivityLog
from oneenglish.app import create_app
from oneenglish.settings import Settings
from oneenglish.workflows import live_users
from tests.factories import TestUser, logged_in, make_user
from tests.helpers import eventually


async def activity_of(app: FastAPI, user: TestUser) -> list[dict[str, object]]:
    cursor = app.state.mongo_db.user_activities.find({"userId": str(user.id)})
    return [doc async for doc in cursor]


async def test_authenticated_request_is_recorded_with_its_route_and_outcome(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    response = await client.get(f"/api/users/{learner.id}/profile", headers=learner.headers)
    assert response.status_code == 200

    async def recorded() -> bool:
        return bool(await activity_of(app, learner))

    assert await eventually(recorded)
    [entry] = await activity_of(app, learner)
    assert entry["action"] == "GET /api/users/{user_id}/profile"
    assert entry["resource"] == {"user_id": str(learner.id)}
    metadata = entry["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["status"] == 200
    assert metadata["duration_ms"] >= 0
    assert entry["ipAddress"] == "127.0.0.1"


async def test_refused_request_by_an_authenticated_user_is_recorded_with_its_status(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    response = await client.get("/api/audit-logs", headers=learner.headers)
    assert response.status_code == 403

    async def recorded() -> bool:
        return bool(await activity_of(app, learner))

    assert await eventually(recorded)
    [entry] = await activity_of(app, learner)
    assert entry["action"] == "GET /api/audit-logs"
    assert entry["metadata"]["status"] == 403  # type: ignore[index]


async def test_anonymous_and_unauthenticated_requests_are_not_recorded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # Start from an empty collection even if an earlier test's entries were still queued.
    await app.state.activity_log.flush()
    await app.state.mongo_db.user_activities.delete_many({})
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/api/courses")).status_code == 200  # the public catalogue
    assert (await client.get("/api/me/enrollments")).status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert (await client.get("/api/auth/me", headers=bad_token)).status_code == 401
    await app.state.activity_log.flush()
    assert await app.state.mongo_db.user_activities.count_documents({}) == 0


async def test_users_read_their_own_activity_newest_first(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    await client.get("/api/auth/me", headers=learner.headers)
    await client.get("/api/me/settings", headers=learner.headers)
    await app.state.activity_log.flush()
    response = await client.get(f"/api/users/{learner.id}/activity", headers=learner.headers)
    assert response.status_code == 200
    body = response.json()
    assert [item["action"] for item in body["items"]] == [
        "GET /api/me/settings",
        "GET /api/auth/me",
    ]
    assert body["next_cursor"] is None


async def test_learner_cannot_read_another_users_activity(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    other = await logged_in(app, client)
    await client.get("/api/auth/me", headers=other.headers)
    response = await client.get(f"/api/users/{other.id}/activity", headers=learner.headers)
    assert response.status_code == 404


async def test_admin_reads_any_users_activity(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, admin: TestUser
) -> None:
    await client.get("/api/auth/me", headers=learner.headers)
    await app.state.activity_log.flush()
    response = await client.get(f"/api/users/{learner.id}/activity", headers=admin.headers)
    assert response.status_code == 200
    assert [item["action"] for item in response.json()["items"]] == ["GET /api/auth/me"]


async def test_activity_pages_follow_each_other_without_overlap(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    for _ in range(5):
        await client.get("/api/auth/me", headers=learner.headers)
    await app.state.activity_log.flush()
    url = f"/api/users/{learner.id}/activity"
    first = (await client.get(url, headers=learner.headers, params={"limit": 3})).json()
    second = (
        await client.get(
            url, headers=learner.headers, params={"limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()
    first_ids = [item["id"] for item in first["items"]]
    second_ids = [item["id"] for item in second["items"]]
    assert len(first_ids) == 3
    assert len(second_ids) == 2  # the sixth entry, the first page's own request, came later
    assert not set(first_ids) & set(second_ids)
    assert second["next_cursor"] is None


async def test_tampered_activity_cursor_is_a_400(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    for _ in range(3):
        await client.get("/api/auth/me", headers=learner.headers)
    await app.state.activity_log.flush()
    url = f"/api/users/{learner.id}/activity"
    cursor = (await client.get(url, headers=learner.headers, params={"limit": 1})).json()[
        "next_cursor"
    ]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[5] ^= 1  # one bit of the payload
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    response = await client.get(url, headers=learner.headers, params={"cursor": forged})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_full_queue_drops_entries_and_counts_them(app: FastAPI, settings: Settings) -> None:
    activity_log = ActivityLog(settings.model_copy(update={"activity_queue_size": 2}))
    user_id = (await make_user(app)).id
    kept = [
        activity_log.record(user_id, "GET /api/auth/me", {}, {"status": 200}, None)
        for _ in range(5)
    ]
    assert kept == [True, True, False, False, False]
    assert activity_log.dropped == 3
    activity_log.start(app.state.mongo_db, live_users.batch_guard(app.state.sessionmaker))
    try:
        await activity_log.flush()
    finally:
        await activity_log.stop()
    assert await app.state.mongo_db.user_activities.count_documents({"userId": str(user_id)}) == 2


@pytest.mark.parametrize(("linger", "most_inserts"), [(0.5, 1), (0.0, 10)])
async def test_entries_arriving_together_share_an_insert(
    app: FastAPI, settings: Settings, linger: float, most_inserts: int
) -> None:
    activity_log = ActivityLog(settings.model_copy(update={"log_write_linger_seconds": linger}))
    inserts: list[int] = []

    async def counting(entries: list[dict[str, object]]) -> None:
        inserts.append(len(entries))
        await app.state.mongo_db.user_activities.insert_many(entries)

    activity_log.writer.start(counting)
    user_id = uuid.uuid4()
    try:
        for _ in range(10):  # a request every 10 ms, as under load
            activity_log.record(user_id, "GET /api/auth/me", {}, {"status": 200}, None)
            await asyncio.sleep(0.01)
        await activity_log.flush()
    finally:
        await activity_log.stop()
    assert sum(inserts) == 10
    assert 1 <= len(inserts) <= most_inserts
    if linger:
        assert inserts == [10]
    assert await app.state.mongo_db.user_activities.count_documents({"userId": str(user_id)}) == 10


async def test_self_erasure_leaves_no_activity_behind(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    await client.get("/api/auth/me", headers=learner.headers)
    response = await client.delete(f"/api/users/{learner.id}", headers=learner.headers)
    assert response.status_code == 204
    await app.state.activity_log.flush()
    assert await activity_of(app, learner) == []


async def test_activity_is_part_of_the_export(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    await client.get("/api/auth/me", headers=learner.headers)
    await app.state.activity_log.flush()
    response = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    actions = [e["action"] for e in response.json()["mongodb"]["user_activities"]]
    assert actions == ["GET /api/auth/me"]


async def test_erasure_deletes_the_users_activity(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, admin: TestUser
) -> None:
    await client.get("/api/auth/me", headers=learner.headers)
    await app.state.activity_log.flush()
    assert await activity_of(app, learner)
    response = await client.delete(f"/api/users/{learner.id}", headers=admin.headers)
    assert response.status_code == 204
    assert await activity_of(app, learner) == []


@pytest.fixture
def short_lived_app(migrated: Settings) -> FastAPI:
    return create_app(migrated)


async def test_entries_still_queued_at_shutdown_are_written(
    app: FastAPI, short_lived_app: FastAPI
) -> None:
    user = await make_user(app)
    async with short_lived_app.router.lifespan_context(short_lived_app):
        activity_log: ActivityLog = short_lived_app.state.activity_log
        # No await between queueing and shutting down: the writer cannot have run.
        for _ in range(20):
            activity_log.record(user.id, "GET /api/auth/me", {}, {"status": 200}, None)
        assert activity_log.writer.pending == 20
    assert len(await activity_of(app, user)) == 20
