"""Input no database can store is a 422 before any route sees it, for every body and query
string; an unknown query parameter is a 422 on every route; a body over its limit is a 413
however it is sent."""

from __future__ import annotations

import types
import typing
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from oneenglish.app import ROUTERS
from oneenglish.core.routing import AppRoute
from tests.core.test_problems import assert_problem
from tests.factories import logged_in
from tests.helpers import pg_scalar


async def error_log_count(app: FastAPI) -> int:
    await app.state.error_log.flush()
    return int(await app.state.mongo_db.error_logs.count_documents({}))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", {"email": "a\u0000@example.com", "password": "Whatever-123"}),
        ("/api/auth/login", {"username": "someone", "password": "pass\u0000word-123"}),
        (
            "/api/auth/register",
            {"email": "nul@example.com", "username": "nul\u0000user", "password": "Whatever-123"},
        ),
    ],
)
async def test_a_nul_character_in_an_anonymous_body_is_a_422_and_logs_no_error(
    client: httpx.AsyncClient, app: FastAPI, path: str, body: dict[str, str]
) -> None:
    response = await client.post(path, json=body)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body"]
    assert await error_log_count(app) == 0
    assert await pg_scalar(app, "SELECT count(*) FROM users") == 0


async def test_a_nul_character_in_free_form_json_is_a_422(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    learner = await logged_in(app, client)
    response = await client.patch(
        "/api/me/settings", json={"settings": {"nickname": "x\u0000y"}}, headers=learner.headers
    )
    assert_problem(response, 422)
    settings = await client.get("/api/me/settings", headers=learner.headers)
    assert "nickname" not in settings.json()["settings"]


async def test_a_nul_character_in_a_form_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/token", data={"username": "a\u0000b", "password": "Whatever-123"}
    )
    assert_problem(response, 422)


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    learner = await logged_in(app, client)
    response = await client.patch(
        "/api/me/settings",
        content=b'{"settings": {"nickname": "C:\\\\u0000"}}',
        headers={**learner.headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["nickname"] == "C:\\u0000"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"settings": {"nickname": "\\ud800"}}',  # a lone surrogate
        b'{"settings": {"ratio": NaN}}',
        b'{"settings": {"ratio": 1e400}}',  # Infinity once parsed
        b'{"settings": {"nickname": "\xff"}}',  # not UTF-8
    ],
)
async def test_json_no_database_can_store_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, raw: bytes
) -> None:
    learner = await logged_in(app, client)
    response = await client.patch(
        "/api/me/settings",
        content=raw,
        headers={**learner.headers, "content-type": "application/json"},
    )
    assert_problem(response, 422)
    assert await error_log_count(app) == 0


async def test_a_nul_character_in_a_query_string_is_a_422(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    for params in ({"search": "a\u0000b"}, {"search": "\u0000", "page": "1"}):
        response = await client.get("/api/users", params=params, headers=admin.headers)
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query"]
    # %2500 is the text "%00", not a NUL.
    ok = await client.get("/api/users?search=a%2500b", headers=admin.headers)
    assert ok.status_code == 200


async def test_a_time_filter_outside_the_utc_calendar_is_a_422(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    for path in ("/api/audit-logs", "/api/error-logs"):
        response = await client.get(
            path, params={"from": "0001-01-01T00:00:00+14:00"}, headers=admin.headers
        )
        assert_problem(response, 422)
    assert await error_log_count(app) == 0


@pytest.mark.parametrize(
    "path",
    ["/api/courses?levl=B1", "/api/leaderboard?course=x", "/api/users/{me}/activity?page=2"],
)
async def test_an_unknown_query_parameter_is_a_422_naming_it(
    client: httpx.AsyncClient, app: FastAPI, path: str
) -> None:
    learner = await logged_in(app, client)
    response = await client.get(path.format(me=learner.id), headers=learner.headers)
    body = assert_problem(response, 422)
    name = path.split("?")[1].split("=")[0]
    assert ["query", name] in [e["loc"] for e in body["errors"]]


async def test_declared_query_parameters_are_still_accepted(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    learner = await logged_in(app, client)
    response = await client.get(
        "/api/courses?level=B1&page=1&page_size=5&sort=title", headers=learner.headers
    )
    assert response.status_code == 200, response.text


async def _chunks(total: int, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_chunked_body_over_the_limit_is_the_same_413_as_a_sized_one(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = app.state.settings.max_request_body_bytes
    body = {"email": "a@example.com", "password": "x" * limit}
    sized = await client.post("/api/auth/login", json=body)
    chunked = await client.post(
        "/api/auth/login",
        content=_chunks(limit + 1),
        headers={"content-type": "application/json"},
    )
    for response in (sized, chunked):
        problem = assert_problem(response, 413)
        assert problem["limit_bytes"] == limit


def test_every_route_is_strict() -> None:
    loose = [
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and not isinstance(route, AppRoute)
    ]
    assert loose == []


def _loose_datetimes(annotation: Any, metadata: list[Any], where: str) -> list[str]:
    """Places in an input type where a datetime is not the UtcDatetime of core.cursors."""
    if annotation is datetime:
        checked = any(getattr(m, "func", None).__name__ == "_as_utc" for m in metadata)  # type: ignore[union-attr]
        return [] if checked else [where]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _loose_datetimes(inner, [*metadata, *extra], where)
    if origin in (typing.Union, types.UnionType, list, dict, tuple, set, frozenset):
        return [
            found
            for arg in typing.get_args(annotation)
            for found in _loose_datetimes(arg, metadata, where)
        ]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [
            found
            for name, field in annotation.model_fields.items()
            for found in _loose_datetimes(field.annotation, field.metadata, f"{where}.{name}")
        ]
    return []


def test_every_datetime_a_route_accepts_is_converted_to_utc_safely() -> None:
    loose: list[str] = []
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            pending = [route.dependant]
            while pending:
                dependant = pending.pop()
                pending.extend(dependant.dependencies)
                for field in [*dependant.query_params, *dependant.body_params]:
                    loose += _loose_datetimes(
                        field.field_info.annotation,
                        list(field.field_info.metadata),
                        f"{route.path}:{field.name}",
                    )
    assert loose == []
