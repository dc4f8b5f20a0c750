from __future__ import annotations

import asyncio
import math
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.app import create_app
from oneenglish.auth import repository as auth_repository
from oneenglish.settings import Settings
from tests.conftest import reset_databases
from tests.factories import PASSWORD, login, make_user
from tests.helpers import pg_scalar


async def test_deactivated_user_cannot_log_in_refresh_or_use_a_token(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    user = await login(client, await make_user(app))

    response = await client.post(f"/api/users/{user.id}/deactivate", headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    relogin = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert relogin.status_code == 401


async def test_reactivation_does_not_bring_old_sessions_back(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    user = await login(client, await make_user(app))
    await client.post(f"/api/users/{user.id}/deactivate", headers=admin.headers)
    reactivated = await client.patch(
        f"/api/users/{user.id}", headers=admin.headers, json={"is_active": True}
    )
    assert reactivated.json()["is_active"] is True
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    again = await login(client, user)  # a new login works
    assert (await client.get("/api/auth/me", headers=again.headers)).status_code == 200


async def test_taking_a_role_away_ends_the_users_sessions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    teacher = await login(client, await make_user(app, roles=("teacher", "student")))
    response = await client.put(
        f"/api/users/{teacher.id}/roles", headers=admin.headers, json={"roles": ["student"]}
    )
    assert response.status_code == 200
    assert (await client.get("/api/auth/me", headers=teacher.headers)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": teacher.refresh_token}
    )
    assert refreshed.status_code == 401


async def test_giving_a_role_keeps_the_users_sessions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    learner = await login(client, await make_user(app))
    response = await client.put(
        f"/api/users/{learner.id}/roles",
        headers=admin.headers,
        json={"roles": ["student", "teacher"]},
    )
    assert response.status_code == 200
    me = await client.get("/api/auth/me", headers=learner.headers)
    assert me.status_code == 200
    assert "courses:create" in me.json()["permissions"]


async def test_taking_a_direct_grant_away_ends_the_users_sessions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    learner = await make_user(app)
    grant = {"permissions": ["courses:read"]}
    await client.put(f"/api/users/{learner.id}/permissions", headers=admin.headers, json=grant)
    learner = await login(client, learner)
    await client.put(
        f"/api/users/{learner.id}/permissions", headers=admin.headers, json={"permissions": []}
    )
    assert (await client.get("/api/auth/me", headers=learner.headers)).status_code == 401


async def test_a_session_is_never_created_for_an_account_that_is_gone_or_inactive(
    app: FastAPI,
) -> None:
    # The last step of a login whose password check overlapped an erasure or a deactivation.
    user = await make_user(app)
    async with app.state.sessionmaker() as db:
        assert await auth_repository.create_session(db, uuid.uuid4(), None, None) is None
        await db.execute(text("UPDATE users SET is_active = false WHERE id = :id"), {"id": user.id})
        assert await auth_repository.create_session(db, user.id, None, None) is None
        await db.rollback()


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def wrong(client: httpx.AsyncClient, **identifier: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={**identifier, "password": "Wrong-pass-1"})


async def test_guesses_from_one_address_slow_that_address_down_not_the_owner(
    app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    async with client_from(app, "198.51.100.7") as attacker, client_from(app, "192.0.2.1") as owner:
        for _ in range(settings.login_free_failures_per_client):
            assert (await wrong(attacker, email=user.email)).status_code == 401
        slowed = await attacker.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert slowed.status_code == 429  # even the right password waits out the backoff
        assert slowed.headers["content-type"] == "application/problem+json"
        assert 1 <= int(slowed.headers["retry-after"]) <= settings.login_backoff_max_seconds
        mine = await owner.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
        assert mine.status_code == 200


async def test_email_and_username_count_against_one_account(
    app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    async with client_from(app, "198.51.100.8") as attacker:
        for n in range(settings.login_free_failures_per_client):
            identifier = {"email": user.email} if n % 2 else {"username": user.username}
            assert (await wrong(attacker, **identifier)).status_code == 401
        assert (await wrong(attacker, username=user.username.upper())).status_code == 429


async def test_the_wait_doubles_with_each_further_failure(app: FastAPI, settings: Settings) -> None:
    base = settings.login_backoff_base_seconds
    user = await make_user(app)
    async with client_from(app, "198.51.100.9") as attacker:
        for _ in range(settings.login_free_failures_per_client):
            await wrong(attacker, email=user.email)
        first = int((await wrong(attacker, email=user.email)).headers["retry-after"])
        await asyncio.sleep(base + 0.2)
        assert (await wrong(attacker, email=user.email)).status_code == 401  # allowed again
        second = int((await wrong(attacker, email=user.email)).headers["retry-after"])
    assert first == math.ceil(base)
    assert second == math.ceil(2 * base)


async def test_the_account_is_slowed_everywhere_only_after_many_failures_from_many_addresses(
    migrated: Settings,
) -> None:
    strict = migrated.model_copy(update={"login_account_lock_threshold": 8})
    application = create_app(strict)
    async with application.router.lifespan_context(application):
        user = await make_user(application)
        for n in range(8):  # 8 addresses, each below its own limit
            async with client_from(application, f"203.0.113.{n + 1}") as attacker:
                assert (await wrong(attacker, email=user.email)).status_code == 401
        async with client_from(application, "192.0.2.50") as owner:
            locked = await owner.post(
                "/api/auth/login", json={"email": user.email, "password": PASSWORD}
            )
        await reset_databases(application)
    assert locked.status_code == 429


async def test_failures_from_one_address_across_accounts_are_throttled(
    app: FastAPI, settings: Settings
) -> None:
    async with client_from(app, "198.51.100.10") as sprayer:
        for n in range(settings.login_max_failures_per_ip):
            assert (await wrong(sprayer, email=f"nobody{n}@example.com")).status_code == 401
        assert (await wrong(sprayer, email="fresh@example.com")).status_code == 429


async def test_a_successful_login_clears_the_accounts_run_of_failures(
    app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    async with client_from(app, "198.51.100.11") as client:
        for _ in range(settings.login_free_failures_per_client - 1):
            await wrong(client, email=user.email)
        ok = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
        assert ok.status_code == 200
        for _ in range(settings.login_free_failures_per_client - 1):
            assert (await wrong(client, email=user.email)).status_code == 401


async def test_sign_ups_from_one_address_are_rate_limited(migrated: Settings) -> None:
    strict = migrated.model_copy(update={"signups_per_ip_per_hour": 2})
    application = create_app(strict)
    async with application.router.lifespan_context(application):
        async with client_from(application, "198.51.100.12") as client:
            statuses = [
                (
                    await client.post(
                        "/api/auth/register",
                        json={
                            "email": f"burst{n}@example.com",
                            "username": f"burst_{n}",
                            "password": PASSWORD,
                        },
                    )
                ).status_code
                for n in range(3)
            ]
            refused = await client.post(
                "/api/auth/register",
                json={"email": "burst9@example.com", "username": "burst_9", "password": PASSWORD},
            )
        users = await pg_scalar(application, "SELECT count(*) FROM users")
        await reset_databases(application)
    assert statuses == [201, 201, 429]
    assert int(refused.headers["retry-after"]) > 0
    assert users == 2
