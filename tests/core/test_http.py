"""What every HTTP response says about itself: security headers, no server banner, CORS only
for allowed origins, and client addresses from X-Forwarded-For only behind trusted proxies."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.settings import Settings
from tests.factories import PASSWORD, logged_in, make_user
from tests.processes import ApiProcess

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize("path", ["/health", "/api/auth/me", "/no/such/route", "/openapi.json"])
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_the_docs_page_may_load_its_scripts_and_api_answers_may_not(
    client: httpx.AsyncClient,
) -> None:
    docs = (await client.get("/docs")).headers["content-security-policy"]
    api = (await client.get("/health")).headers["content-security-policy"]
    assert "script-src 'self'" in docs
    assert api.startswith("default-src 'none'")


async def test_hsts_is_sent_over_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/courses",
        headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_answers_only_origins_on_the_allow_list(migrated: Settings) -> None:
    allowed = migrated.model_copy(update={"cors_allow_origins": ["https://app.example"]})
    application = create_app(allowed)
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        preflight = {"access-control-request-method": "GET"}
        good = await client.options(
            "/api/courses", headers={"origin": "https://app.example", **preflight}
        )
        bad = await client.options(
            "/api/courses", headers={"origin": "https://evil.example", **preflight}
        )
    assert good.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in bad.headers


async def session_ips(client: httpx.AsyncClient, app: FastAPI, user_id: object) -> set[str]:
    admin = await logged_in(app, client, roles=("admin",))
    export = await client.get(f"/api/users/{user_id}/export", headers=admin.headers)
    return {s["ip_address"] for s in export.json()["postgresql"]["sessions"]}


async def test_x_forwarded_for_is_ignored_from_untrusted_clients(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await make_user(app)
    response = await client.post(
        "/api/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"x-forwarded-for": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert await session_ips(client, app, user.id) == {"127.0.0.1"}


async def test_a_served_api_sends_no_banner_and_trusts_only_its_configured_proxies(
    client: httpx.AsyncClient, app: FastAPI, migrated: Settings
) -> None:
    api = ApiProcess(migrated, forwarded_allow_ips="127.0.0.1")
    api.start()
    try:
        await api.wait_ready()
        user = await make_user(app)
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as served:
            health = await served.get("/health")
            login = await served.post(
                "/api/auth/login",
                json={"email": user.email, "password": PASSWORD},
                headers={"x-forwarded-for": "203.0.113.9"},
            )
    finally:
        api.stop()
    assert "server" not in health.headers
    assert login.status_code == 200, login.text
    assert await session_ips(client, app, user.id) == {"203.0.113.9"}
