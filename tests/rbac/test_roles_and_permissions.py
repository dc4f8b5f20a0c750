from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.bootstrap import seed_rbac
from tests.factories import TestUser, logged_in


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("admin",))


async def role_id(client: httpx.AsyncClient, admin: TestUser, name: str) -> str:
    roles = (await client.get("/api/roles", headers=admin.headers)).json()["items"]
    return str(next(r["id"] for r in roles if r["name"] == name))


async def test_default_roles_exist_and_seeding_twice_changes_nothing(app: FastAPI) -> None:
    count = "SELECT (SELECT count(*) FROM roles), (SELECT count(*) FROM role_permissions)"
    async with app.state.engine.connect() as conn:
        before = (await conn.execute(text(count))).one()
    await seed_rbac(app.state.sessionmaker)
    async with app.state.engine.connect() as conn:
        after = (await conn.execute(text(count))).one()
        names = set((await conn.execute(text("SELECT name FROM roles"))).scalars())
    assert before == after
    assert {"admin", "teacher", "student"} <= names


async def test_reseeding_does_not_give_back_a_grant_an_admin_removed(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    custom = await client.post(
        "/api/permissions", headers=admin.headers, json={"resource": "reports", "action": "read"}
    )
    assert custom.status_code == 201
    teacher = await role_id(client, admin, "teacher")
    await client.put(
        f"/api/roles/{teacher}/permissions",
        headers=admin.headers,
        json={"permissions": ["reports:read"]},
    )
    await client.put(
        f"/api/roles/{teacher}/permissions", headers=admin.headers, json={"permissions": []}
    )
    await seed_rbac(app.state.sessionmaker)
    role = (await client.get(f"/api/roles/{teacher}", headers=admin.headers)).json()
    assert "reports:read" not in role["permissions"]


async def test_role_lifecycle(client: httpx.AsyncClient, admin: TestUser) -> None:
    created = await client.post(
        "/api/roles", headers=admin.headers, json={"name": "reviewer", "description": "Reviews"}
    )
    assert created.status_code == 201
    rid = created.json()["id"]
    assert created.json()["is_system"] is False

    duplicate = await client.post("/api/roles", headers=admin.headers, json={"name": "reviewer"})
    assert duplicate.status_code == 409

    perms = await client.put(
        f"/api/roles/{rid}/permissions", headers=admin.headers, json={"permissions": ["users:read"]}
    )
    assert perms.json() == {"permissions": ["users:read"]}
    detail = (await client.get(f"/api/roles/{rid}", headers=admin.headers)).json()
    assert detail["permissions"] == ["users:read"]

    renamed = await client.patch(
        f"/api/roles/{rid}", headers=admin.headers, json={"name": "editor"}
    )
    assert renamed.json()["name"] == "editor"
    assert (await client.delete(f"/api/roles/{rid}", headers=admin.headers)).status_code == 204
    assert (await client.get(f"/api/roles/{rid}", headers=admin.headers)).status_code == 404


async def test_granting_a_role_a_permission_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    student = await logged_in(app, client)
    assert (await client.get("/api/users", headers=student.headers)).status_code == 403
    sid = await role_id(client, admin, "student")
    await client.put(
        f"/api/roles/{sid}/permissions", headers=admin.headers, json={"permissions": ["users:read"]}
    )
    assert (await client.get("/api/users", headers=student.headers)).status_code == 200


async def test_default_roles_are_protected(client: httpx.AsyncClient, admin: TestUser) -> None:
    admin_role = await role_id(client, admin, "admin")
    student_role = await role_id(client, admin, "student")
    assert (
        await client.delete(f"/api/roles/{student_role}", headers=admin.headers)
    ).status_code == 409
    rename = await client.patch(
        f"/api/roles/{student_role}", headers=admin.headers, json={"name": "pupil"}
    )
    assert rename.status_code == 409
    strip = await client.put(
        f"/api/roles/{admin_role}/permissions", headers=admin.headers, json={"permissions": []}
    )
    assert strip.status_code == 409


async def test_permission_lifecycle_and_uniqueness(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    created = await client.post(
        "/api/permissions", headers=admin.headers, json={"resource": "reports", "action": "export"}
    )
    assert created.status_code == 201
    assert created.json()["name"] == "reports:export"
    pid = created.json()["id"]
    again = await client.post(
        "/api/permissions", headers=admin.headers, json={"resource": "reports", "action": "export"}
    )
    assert again.status_code == 409
    # New permissions go to admin at once.
    me = (await client.get("/api/auth/me", headers=admin.headers)).json()
    assert "reports:export" in me["permissions"]
    described = await client.patch(
        f"/api/permissions/{pid}", headers=admin.headers, json={"description": "CSV export"}
    )
    assert described.json()["description"] == "CSV export"
    listed = await client.get(
        "/api/permissions", headers=admin.headers, params={"resource": "reports"}
    )
    assert [p["name"] for p in listed.json()["items"]] == ["reports:export"]
    assert (
        await client.delete(f"/api/permissions/{pid}", headers=admin.headers)
    ).status_code == 204


async def test_builtin_permissions_cannot_be_deleted(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    listed = await client.get(
        "/api/permissions", headers=admin.headers, params={"resource": "users"}
    )
    pid = listed.json()["items"][0]["id"]
    assert (
        await client.delete(f"/api/permissions/{pid}", headers=admin.headers)
    ).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"resource": "Users", "action": "read"},
        {"resource": "users", "action": "read all"},
        {"resource": "u", "action": "read"},
        {"resource": "users", "action": "read", "name": "x"},
    ],
)
async def test_malformed_permissions_are_a_422(
    client: httpx.AsyncClient, admin: TestUser, body: dict[str, str]
) -> None:
    assert (
        await client.post("/api/permissions", headers=admin.headers, json=body)
    ).status_code == 422
