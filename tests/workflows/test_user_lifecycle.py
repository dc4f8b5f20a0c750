"""The user across both databases: created in both, read from both, erased from both."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.settings import Settings
from tests.factories import PASSWORD, TestUser, logged_in
from tests.helpers import eventually, user_documents, user_row_exists


async def test_registration_creates_the_row_the_profile_and_the_settings(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "ana@example.com", "username": "ana_b", "password": PASSWORD},
    )
    assert response.status_code == 201
    user_id = response.json()["id"]
    assert await user_row_exists(app, user_id)
    assert await user_documents(app, user_id) == (True, True)
    stored = await app.state.mongo_db.user_settings.find_one({"_id": user_id})
    assert stored["settings"] == settings.default_user_settings
    assert stored["userId"] == user_id


async def test_admin_created_user_exists_in_both_databases(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    response = await client.post(
        "/api/users",
        headers=admin.headers,
        json={
            "email": "t@example.com",
            "username": "teach_1",
            "password": PASSWORD,
            "roles": ["teacher"],
        },
    )
    assert response.status_code == 201
    assert await user_documents(app, response.json()["id"]) == (True, True)


async def test_get_user_combines_the_row_with_profile_and_settings(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await logged_in(app, client)
    body = (await client.get(f"/api/users/{user.id}", headers=user.headers)).json()
    assert body["email"] == user.email
    assert body["roles"] == ["student"]
    assert body["profile"]["user_id"] == str(user.id)
    assert body["settings"]["settings"]["language"] == "en"
    assert body["degraded"] == []


@pytest.fixture
async def learner(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


async def test_profile_patch_is_validated_and_partial(
    client: httpx.AsyncClient, learner: TestUser
) -> None:
    first = await client.patch(
        "/api/me/profile",
        headers=learner.headers,
        json={"bio": "Hi", "social_links": {"github": "https://github.com/ana"}},
    )
    assert first.status_code == 200
    second = await client.patch("/api/me/profile", headers=learner.headers, json={"city": "Lima"})
    body = second.json()
    assert (body["bio"], body["city"]) == ("Hi", "Lima")
    assert body["social_links"] == {"github": "https://github.com/ana"}
    same = await client.get(f"/api/users/{learner.id}/profile", headers=learner.headers)
    assert same.json() == body


@pytest.mark.parametrize(
    "body",
    [
        {"nickname": "x"},
        {"bio": "x" * 2001},
        {"social_links": {"github": "not a url"}},
        {"preferences": {"$where": 1}},
        {"preferences": {"a.b": 1}},
        {"preferences": {"grid": [[1, 2]]}},
        {"preferences": {"text": "nul\u0000here"}},
        {"preferences": "not an object"},
    ],
)
async def test_bad_profile_input_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, learner: TestUser, body: dict[str, object]
) -> None:
    before = (await client.get("/api/me/profile", headers=learner.headers)).json()
    response = await client.patch("/api/me/profile", headers=learner.headers, json=body)
    assert response.status_code == 422
    assert (await client.get("/api/me/profile", headers=learner.headers)).json() == before


async def test_non_finite_numbers_are_a_422(client: httpx.AsyncClient, learner: TestUser) -> None:
    response = await client.patch(
        "/api/me/settings",
        headers={**learner.headers, "content-type": "application/json"},
        content=b'{"settings": {"volume": NaN}}',
    )
    assert response.status_code == 422


async def test_settings_merge_and_null_removes_a_key(
    client: httpx.AsyncClient, learner: TestUser
) -> None:
    response = await client.patch(
        "/api/me/settings",
        headers=learner.headers,
        json={"settings": {"theme": "dark", "dailyGoalMinutes": None, "voice": {"speed": 1.25}}},
    )
    assert response.status_code == 200
    stored = response.json()["settings"]
    assert stored["theme"] == "dark"
    assert "dailyGoalMinutes" not in stored
    assert stored["voice"] == {"speed": 1.25}
    assert stored["language"] == "en"
    bodies: list[dict[str, Any]] = [
        {"settings": {}},
        {"settings": {"bad key": 1}},
        {"theme": "dark"},
    ]
    for bad in bodies:
        assert (
            await client.patch("/api/me/settings", headers=learner.headers, json=bad)
        ).status_code == 422


async def test_learners_cannot_read_or_change_anothers_documents(
    client: httpx.AsyncClient, app: FastAPI, learner: TestUser
) -> None:
    other = await logged_in(app, client)
    for method, path, body in [
        ("GET", f"/api/users/{other.id}/profile", None),
        ("PATCH", f"/api/users/{other.id}/profile", {"bio": "pwned"}),
        ("GET", f"/api/users/{other.id}/settings", None),
        ("PATCH", f"/api/users/{other.id}/settings", {"settings": {"theme": "x"}}),
        ("GET", f"/api/users/{other.id}/export", None),
        ("DELETE", f"/api/users/{other.id}", None),
    ]:
        response = await client.request(method, path, json=body, headers=learner.headers)
        assert response.status_code == 404, (method, path)
    assert await user_documents(app, other.id) == (True, True)
    assert await user_row_exists(app, other.id)


async def test_erasure_removes_the_user_from_both_databases(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    user = await logged_in(app, client)
    response = await client.delete(f"/api/users/{user.id}", headers=admin.headers)
    assert response.status_code == 204
    assert not await user_row_exists(app, user.id)
    assert await user_documents(app, user.id) == (False, False)
    assert (await client.get(f"/api/users/{user.id}", headers=admin.headers)).status_code == 404
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 401

    async def erasure_audited() -> bool:
        entry = await app.state.mongo_db.audit_logs.find_one(
            {"action": "user.erased", "entityId": str(user.id)}
        )
        return entry is not None and entry["actorId"] == str(admin.id)

    assert await eventually(erasure_audited)


async def test_users_may_erase_themselves(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await logged_in(app, client)
    assert (await client.delete(f"/api/users/{user.id}", headers=user.headers)).status_code == 204
    assert not await user_row_exists(app, user.id)


async def test_export_holds_both_databases(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await logged_in(app, client)
    await client.patch("/api/me/profile", headers=user.headers, json={"bio": "Exported"})
    response = await client.get(f"/api/users/{user.id}/export", headers=user.headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["postgresql"]["user"]["email"] == user.email
    assert len(data["postgresql"]["sessions"]) == 1
    assert "password" not in response.text
    assert data["mongodb"]["user_profiles"][0]["bio"] == "Exported"
    assert data["mongodb"]["user_settings"][0]["userId"] == str(user.id)
    assert any(e["action"] == "profile.updated" for e in data["mongodb"]["audit_logs"])


async def test_changes_to_a_user_are_audited_with_before_and_after(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    user = await logged_in(app, client)
    await client.patch(
        f"/api/users/{user.id}",
        headers={**admin.headers, "x-request-id": "req-42"},
        json={"first_name": "Renamed"},
    )

    async def audited() -> bool:
        return (
            await app.state.mongo_db.audit_logs.find_one(
                {"action": "user.updated", "entityId": str(user.id)}
            )
        ) is not None

    assert await eventually(audited)
    entry = await app.state.mongo_db.audit_logs.find_one(
        {"action": "user.updated", "entityId": str(user.id)}
    )
    assert entry["actorId"] == str(admin.id)
    assert entry["requestId"] == "req-42"
    assert entry["ipAddress"]
    assert entry["changes"]["before"]["first_name"] == ""
    assert entry["changes"]["after"]["first_name"] == "Renamed"
    assert "password_hash" not in str(entry)
