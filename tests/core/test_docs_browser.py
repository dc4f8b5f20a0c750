"""/docs in a real browser, with nothing but this API to load from: it renders, and an
authorised "Try it out" call succeeds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, Route

from oneenglish.settings import Settings
from tests.factories import PASSWORD
from tests.processes import ApiProcess

pytestmark = pytest.mark.browser


@pytest.fixture
async def served_api(migrated: Settings) -> AsyncIterator[ApiProcess]:
    api = ApiProcess(migrated)
    api.start()
    try:
        await api.wait_ready()
        yield api
    finally:
        api.stop()


async def test_docs_render_offline_and_an_authorised_try_it_out_call_succeeds(
    served_api: ApiProcess, page: Page
) -> None:
    username = f"docs{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=served_api.url) as client:
        registered = await client.post(
            "/api/auth/register",
            json={"email": f"{username}@example.com", "username": username, "password": PASSWORD},
        )
    assert registered.status_code == 201, registered.text
    elsewhere: list[str] = []

    async def only_this_api(route: Route) -> None:
        if route.request.url.startswith(served_api.url):
            await route.continue_()
        else:  # a CDN, a font: offline machines have none
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_api)
    await page.goto(f"{served_api.url}/docs")
    await page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill(username)
    await dialog.locator("#oauth_password").fill(PASSWORD)
    await dialog.locator(".auth-btn-wrapper button.authorize").click()
    await dialog.get_by_text("Logout").wait_for(timeout=15000)  # authorised
    await dialog.locator("button.btn-done").click()
    operation = page.locator("#operations-auth-me_api_auth_me_get")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    await operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    await status.wait_for(timeout=15000)
    assert (await status.inner_text()).strip().startswith("200")
    assert username in await operation.locator(".live-responses-table").inner_text()
    assert elsewhere == []
