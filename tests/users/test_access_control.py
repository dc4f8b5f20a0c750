"""A student token reaches no administrative route and no other user's record."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.factories import TestUser, logged_in

PUBLIC = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/token"),
    ("POST", "/api/auth/refresh"),
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
        for method in route.methods or ()
    )


async def test_every_api_route_except_sign_in_needs_a_token(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    for method, path in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{[a-z_]+_id\}", lambda _: str(uuid.uuid4()), path)
        response = await client.request(method, url)
        assert response.status_code == 401, (method, path, response.status_code)


@pytest.fixture
async def student(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


@pytest.fixture
async def other(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


async def test_student_cannot_reach_any_route_on_another_users_record(
    client: httpx.AsyncClient, student: TestUser, other: TestUser
) -> None:
    attempts = [
        ("GET", "/api/users", None),
        (
            "POST",
            "/api/users",
            {"email": "x@example.com", "username": "xx_x", "password": "P4ssword!!x"},
        ),
        ("GET", f"/api/users/{other.id}", None),
        ("PATCH", f"/api/users/{other.id}", {"first_name": "Mallory"}),
        ("POST", f"/api/users/{other.id}/deactivate", None),
        ("PUT", f"/api/users/{other.id}/roles", {"roles": ["admin"]}),
        ("GET", f"/api/users/{other.id}/permissions", None),
        ("PUT", f"/api/users/{other.id}/permissions", {"permissions": ["users:read"]}),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=student.headers)
        assert response.status_code in (403, 404), (method, url, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"


async def test_student_cannot_escalate_on_their_own_record(
    client: httpx.AsyncClient, student: TestUser
) -> None:
    own = f"/api/users/{student.id}"
    attempts = [
        ("PATCH", own, {"is_active": False}),
        ("POST", f"{own}/deactivate", None),
        ("PUT", f"{own}/roles", {"roles": ["admin"]}),
        ("PUT", f"{own}/permissions", {"permissions": ["users:read"]}),
        ("GET", "/api/roles", None),
        ("POST", "/api/roles", {"name": "hackers"}),
        ("GET", "/api/permissions", None),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=student.headers)
        assert response.status_code == 403, (method, url, response.status_code)
    me = (await client.get("/api/auth/me", headers=student.headers)).json()
    assert me["roles"] == ["student"]
    assert me["permissions"] == []


async def test_student_reads_and_renames_themselves(
    client: httpx.AsyncClient, student: TestUser
) -> None:
    own = f"/api/users/{student.id}"
    assert (await client.get(own, headers=student.headers)).status_code == 200
    response = await client.patch(own, json={"first_name": "Ada"}, headers=student.headers)
    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"


async def test_mass_assignment_fields_are_rejected(
    client: httpx.AsyncClient, student: TestUser
) -> None:
    own = f"/api/users/{student.id}"
    for field, value in [
        ("roles", ["admin"]),
        ("password_hash", "x"),
        ("email", "a@b.co"),
        ("id", "1"),
    ]:
        response = await client.patch(own, json={field: value}, headers=student.headers)
        assert response.status_code == 422, field


async def test_admin_may_read_and_update_anyone(
    client: httpx.AsyncClient, app: FastAPI, student: TestUser
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    assert (await client.get(f"/api/users/{student.id}", headers=admin.headers)).status_code == 200
    response = await client.patch(
        f"/api/users/{student.id}", json={"last_name": "Lovelace"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["last_name"] == "Lovelace"
