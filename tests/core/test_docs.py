"""/docs and /redoc work offline: every script, style and image comes from the API itself."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    sources += re.findall(r"""(?:url|openapi_url|spec-url)\s*:\s*['"]([^'"]+)['"]""", html)
    assets = [s for s in sources if s.startswith("/docs-assets/")]
    assert assets, html
    assert not [s for s in sources if "://" in s or s.startswith("//")]
    for asset in assets:
        fetched = await client.get(asset)
        assert fetched.status_code == 200
        assert len(fetched.content) > 1000
    csp = response.headers["content-security-policy"]
    assert "http" not in csp
    assert "fonts.googleapis" not in html


async def test_the_assets_have_their_media_types(client: httpx.AsyncClient) -> None:
    js = await client.get("/docs-assets/swagger-ui-bundle.js")
    css = await client.get("/docs-assets/swagger-ui.css")
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/docs-assets/../settings.py")).status_code == 404


async def test_the_oauth2_redirect_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "oauth2" in response.text.lower()
