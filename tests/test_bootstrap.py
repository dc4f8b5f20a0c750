"""The first administrator comes from the settings, once, and is never overwritten."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from oneenglish.app import create_app
from oneenglish.settings import Settings


async def start_and_login(settings: Settings, password: str) -> int:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/auth/login", json={"email": settings.admin_email, "password": password}
            )
            if response.status_code == 200:
                token = response.json()["access_token"]
                me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
                assert me.json()["roles"] == ["admin"]
            return response.status_code


async def test_admin_from_settings_is_created_once_and_never_overwritten(
    app: FastAPI, migrated: Settings
) -> None:
    first = migrated.model_copy(
        update={"admin_email": "boss@example.com", "admin_password": SecretStr("First-chief-123")}
    )
    assert await start_and_login(first, "First-chief-123") == 200

    second = first.model_copy(update={"admin_password": SecretStr("Second-chief-456")})
    assert await start_and_login(second, "Second-chief-456") == 401
    assert await start_and_login(second, "First-chief-123") == 200
