from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import PASSWORD, TestUser, logged_in, make_user


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("admin",))


async def test_admin_creates_a_user_with_roles(client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await client.post(
        "/api/users",
        headers=admin.headers,
        json={
            "email": "teach@example.com",
            "username": "teach",
            "password": PASSWORD,
            "roles": ["teacher"],
        },
    )
    assert response.status_code == 201
    assert response.json()["roles"] == ["teacher"]
    assert "password" not in response.text


async def test_admin_create_with_unknown_role_is_a_422_and_creates_nothing(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.post(
        "/api/users",
        headers=admin.headers,
        json={
            "email": "t@example.com",
            "username": "tt_t",
            "password": PASSWORD,
            "roles": ["wizard"],
        },
    )
    assert response.status_code == 422
    listing = await client.get("/api/users", headers=admin.headers, params={"search": "tt_t"})
    assert listing.json()["total"] == 0


async def test_list_paginates_with_a_total_and_bounded_page_size(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    for _ in range(5):
        await make_user(app)
    page = (
        await client.get("/api/users", headers=admin.headers, params={"page": 2, "page_size": 2})
    ).json()
    assert page["total"] == 6
    assert page["page"] == 2
    assert len(page["items"]) == 2
    everyone = await client.get("/api/users", headers=admin.headers, params={"page_size": 100})
    ids = [u["id"] for u in everyone.json()["items"]]
    assert len(ids) == len(set(ids)) == 6
    for bad in ({"page_size": 101}, {"page": 0}, {"page_size": 0}, {"page": "x"}):
        assert (
            await client.get("/api/users", headers=admin.headers, params=bad)
        ).status_code == 422


async def test_list_filters_by_role_activity_and_text(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    teacher = await make_user(app, roles=("teacher",), username="grace_h")
    student = await make_user(app, username="alan_t")
    await client.post(f"/api/users/{student.id}/deactivate", headers=admin.headers)

    def ids(response: httpx.Response) -> set[str]:
        return {u["id"] for u in response.json()["items"]}

    by_role = await client.get("/api/users", headers=admin.headers, params={"role": "teacher"})
    assert ids(by_role) == {str(teacher.id)}
    inactive = await client.get("/api/users", headers=admin.headers, params={"is_active": False})
    assert ids(inactive) == {str(student.id)}
    search = await client.get("/api/users", headers=admin.headers, params={"search": "GRACE"})
    assert ids(search) == {str(teacher.id)}
    wildcard = await client.get("/api/users", headers=admin.headers, params={"search": "%"})
    assert ids(wildcard) == set()


async def test_roles_and_direct_grants_make_the_effective_permissions(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    user = await logged_in(app, client)
    roles = await client.put(
        f"/api/users/{user.id}/roles", headers=admin.headers, json={"roles": ["teacher", "student"]}
    )
    assert roles.json() == {"roles": ["student", "teacher"]}
    grants = await client.put(
        f"/api/users/{user.id}/permissions",
        headers=admin.headers,
        json={"permissions": ["users:read"]},
    )
    assert grants.json() == {"permissions": ["users:read"]}
    me = (await client.get("/api/auth/me", headers=user.headers)).json()
    assert me["roles"] == ["student", "teacher"]
    assert "users:read" in me["permissions"]
    assert (await client.get("/api/users", headers=user.headers)).status_code == 200


async def test_unknown_roles_or_permissions_are_a_422(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    user = await make_user(app)
    bad_role = await client.put(
        f"/api/users/{user.id}/roles", headers=admin.headers, json={"roles": ["wizard"]}
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["unknown"] == ["wizard"]
    bad_perm = await client.put(
        f"/api/users/{user.id}/permissions",
        headers=admin.headers,
        json={"permissions": ["magic:cast"]},
    )
    assert bad_perm.status_code == 422


async def test_the_last_active_admin_cannot_be_removed(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    demote = await client.put(
        f"/api/users/{admin.id}/roles", headers=admin.headers, json={"roles": ["student"]}
    )
    assert demote.status_code == 409
    deactivate = await client.post(f"/api/users/{admin.id}/deactivate", headers=admin.headers)
    assert deactivate.status_code == 409


async def test_an_admin_can_step_down_once_another_exists(
    client: httpx.AsyncClient, app: FastAPI, admin: TestUser
) -> None:
    await make_user(app, roles=("admin",))
    demote = await client.put(
        f"/api/users/{admin.id}/roles", headers=admin.headers, json={"roles": ["student"]}
    )
    assert demote.status_code == 200


async def test_unknown_user_is_a_404(client: httpx.AsyncClient, admin: TestUser) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"/api/users/{missing}", headers=admin.headers)).status_code == 404
    assert (await client.get("/api/users/not-a-uuid", headers=admin.headers)).status_code == 422
