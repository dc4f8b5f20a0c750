from __future__ import annotations

import httpx
from fastapi import FastAPI

from oneenglish.settings import Settings
from tests.factories import PASSWORD, login, make_user


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


async def test_repeated_failures_for_an_account_are_throttled_with_retry_after(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    for _ in range(settings.login_max_failures_per_account):
        wrong = await client.post(
            "/api/auth/login", json={"email": user.email, "password": "Wrong-pass-1"}
        )
        assert wrong.status_code == 401
    # Even the right password is refused until the window ends.
    throttled = await client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= settings.login_failure_window_seconds


async def test_repeated_failures_from_one_ip_are_throttled_across_accounts(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for n in range(settings.login_max_failures_per_ip):
        response = await client.post(
            "/api/auth/login", json={"email": f"nobody{n}@example.com", "password": "Wrong-pass-1"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": "fresh@example.com", "password": "Wrong-pass-1"}
    )
    assert blocked.status_code == 429


async def test_a_successful_login_clears_the_account_counter(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    for _ in range(settings.login_max_failures_per_account - 1):
        await client.post("/api/auth/login", json={"email": user.email, "password": "Wrong-pass-1"})
    ok = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200
    again = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "Wrong-pass-1"}
    )
    assert again.status_code == 401
