"""Every error is application/problem+json with one stable shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from oneenglish.app import create_app
from oneenglish.settings import Settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    age: int


@pytest.fixture(scope="module")
async def probe_app(migrated: Settings) -> AsyncIterator[FastAPI]:
    """The real application, plus two routes that exist only to exercise the error handlers."""
    application = create_app(migrated)

    @application.post("/_probe/echo")
    async def echo(body: Echo) -> Echo:
        return body

    @application.get("/_probe/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/route"), 404)
    assert body["instance"] == "/no/such/route"


async def test_wrong_method_is_a_405_problem_with_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


async def test_malformed_json_body_is_a_422_problem(probe: httpx.AsyncClient) -> None:
    response = await probe.post(
        "/_probe/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["errors"]


async def test_wrong_types_and_unknown_fields_are_named_in_errors(
    probe: httpx.AsyncClient,
) -> None:
    response = await probe.post("/_probe/echo", json={"name": "a", "age": "old", "admin": True})
    body = assert_problem(response, 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "age") in locs
    assert ("body", "admin") in locs


async def test_unhandled_error_is_a_500_problem_without_internals(
    probe: httpx.AsyncClient,
) -> None:
    response = await probe.get("/_probe/boom")
    body = assert_problem(response, 500)
    assert body["error_id"]
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


async def test_client_request_id_is_echoed_when_safe(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/health", headers={"x-request-id": "a b;<script>"})
    assert unsafe.headers["x-request-id"] != "a b;<script>"


async def test_an_exhausted_connection_pool_is_a_503_not_a_500(migrated: Settings) -> None:
    tiny = migrated.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 0.3}
    )
    application = create_app(tiny)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
            application.state.engine.connect() as held,  # the pool's only connection, kept busy
        ):
            await held.exec_driver_sql("SELECT 1")
            response = await client.post(
                "/api/auth/login", json={"email": "a@example.com", "password": "Whatever-123"}
            )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
