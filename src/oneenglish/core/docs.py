"""The interactive docs (/docs, /redoc), served entirely by the API itself.

FastAPI's own pages load Swagger UI and ReDoc (and fonts) from CDNs, so on a machine or a
company network without internet they are blank. These are the same pages, built by FastAPI's
own `get_swagger_ui_html` / `get_redoc_html`, with the scripts and styles that `fastapi-offline`
ships (Swagger UI's bundle and CSS, ReDoc's standalone build) mounted at /docs-assets, and no
Google fonts. Their content security policy allows nothing from elsewhere.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs-assets"
DOCS_PATHS = (DOCS_URL, REDOC_URL, OAUTH2_REDIRECT_URL)
# The assets fastapi-offline packages (the only part of it we use).
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add the pages and their assets to an app made with docs_url=None, redoc_url=None."""
    _problems_as_problem_json(app)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


def _problems_as_problem_json(app: FastAPI) -> None:
    """Error responses are documented as what they are: FastAPI files a response model under
    the route's media type (application/json); ours are sent as application/problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[0] in "45" and "schema" in content.get(JSON, {}):
                            content[PROBLEM_JSON] = {"schema": content.pop(JSON)["schema"]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
