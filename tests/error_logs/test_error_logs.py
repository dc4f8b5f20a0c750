"""Every unhandled error becomes an error_logs document named by the error_id the client got;
operators list and read them with error_logs:read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.context import UnhandledError
from oneenglish.error_logs.service import ErrorLog
from oneenglish.settings import Settings
from tests.conftest import reset_databases
from tests.factories import TestUser, login, make_user


@pytest.fixture(scope="module")
async def probe_app(migrated: Settings) -> AsyncIterator[FastAPI]:
    """The real application plus routes that fail, to exercise the error log."""
    application = create_app(migrated)

    @application.get("/_probe/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @application.get("/_probe/users/{user_id}/boom")
    async def boom_for_user(user_id: str, principal: CurrentUser) -> None:
        raise KeyError(user_id)

    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
async def _clean_after_probe(probe_app: FastAPI) -> AsyncIterator[None]:
    """The shared `app` fixture's clean-up does not run for these tests: do the same here,
    once what the probe app still has queued is written."""
    yield
    await asyncio.gather(probe_app.state.error_log.flush(), probe_app.state.activity_log.flush())
    await reset_databases(probe_app)


@pytest.fixture
async def operator(probe_app: FastAPI, probe: httpx.AsyncClient) -> TestUser:
    return await login(probe, await make_user(probe_app, roles=("admin",)))


async def stored_error(app: FastAPI, error_id: str) -> dict[str, Any] | None:
    await app.state.error_log.flush()
    document: dict[str, object] | None = await app.state.mongo_db.error_logs.find_one(
        {"_id": error_id}
    )
    return document


async def test_unhandled_error_is_logged_under_the_error_id_the_client_got(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    response = await probe.get("/_probe/boom", headers={"user-agent": "probe/1.0"})
    assert response.status_code == 500
    body = response.json()
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    entry = await stored_error(probe_app, body["error_id"])
    assert entry is not None
    assert entry["errorType"] == "RuntimeError"
    assert entry["message"] == "secret internal detail"
    assert "Traceback" in str(entry["stack"])
    assert entry["severity"] == "error"
    assert entry["userId"] is None
    assert entry["context"] == {
        "method": "GET",
        "path": "/_probe/boom",
        "route": "/_probe/boom",
        "requestId": response.headers["x-request-id"],
        "ip": "127.0.0.1",
        "userAgent": "probe/1.0",
        "query": [],
    }


async def test_sensitive_query_parameters_are_redacted_and_headers_never_kept(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    response = await probe.get(
        "/_probe/boom",
        params=[
            ("access_token", "tok-123"),
            ("Password", "hunter2-secret"),
            ("api_key", "k-456"),
            ("page", "2"),
            ("next", jwt_like),
        ],
        headers={"authorization": "Bearer header-secret", "cookie": "sid=cookie-secret"},
    )
    entry = await stored_error(probe_app, response.json()["error_id"])
    assert entry is not None
    assert entry["context"]["query"] == [
        {"name": "access_token", "value": "[redacted]"},
        {"name": "Password", "value": "[redacted]"},
        {"name": "api_key", "value": "[redacted]"},
        {"name": "page", "value": "2"},
        {"name": "next", "value": "[redacted]"},
    ]
    stored = str(entry)
    secrets = ("tok-123", "hunter2-secret", "k-456", jwt_like, "header-secret", "cookie-secret")
    for secret in secrets:
        assert secret not in stored


async def test_error_log_names_the_authenticated_user_and_the_route(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    response = await probe.get("/_probe/users/abc/boom", headers=operator.headers)
    assert response.status_code == 500
    entry = await stored_error(probe_app, response.json()["error_id"])
    assert entry is not None
    assert entry["userId"] == str(operator.id)
    assert entry["errorType"] == "KeyError"
    assert entry["context"]["route"] == "/_probe/users/{user_id}/boom"
    assert entry["context"]["path"] == "/_probe/users/abc/boom"


async def test_a_failing_error_log_never_changes_the_500(
    probe_app: FastAPI, probe: httpx.AsyncClient
) -> None:
    def broken(error: UnhandledError) -> None:
        raise RuntimeError("the error log itself failed")

    # pytest's monkeypatch cannot restore attributes of a Starlette State: swap by hand.
    working = probe_app.state.unhandled_error_hook
    probe_app.state.unhandled_error_hook = broken
    try:
        response = await probe.get("/_probe/boom")
    finally:
        probe_app.state.unhandled_error_hook = working
    assert response.status_code == 500
    assert response.json()["error_id"]


async def test_full_error_queue_drops_entries_and_counts_them(settings: Settings) -> None:
    error_log = ErrorLog(settings.model_copy(update={"error_log_queue_size": 1}))
    error = UnhandledError(
        error_id=uuid.uuid4().hex,
        error=RuntimeError("x"),
        user_id=None,
        method="GET",
        path="/",
        route=None,
        request_id=None,
        ip=None,
        user_agent=None,
        query=[],
    )
    assert [error_log.capture(error) for _ in range(3)] == [True, False, False]
    assert error_log.dropped == 2


async def test_operators_list_errors_newest_first_without_stacks(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    first = (await probe.get("/_probe/boom")).json()["error_id"]
    second = (await probe.get("/_probe/users/x/boom", headers=operator.headers)).json()["error_id"]
    await probe_app.state.error_log.flush()
    response = await probe.get("/api/error-logs", headers=operator.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [second, first]
    assert all("stack" not in item for item in items)


async def test_operators_read_one_error_with_its_stack(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    error_id = (await probe.get("/_probe/boom")).json()["error_id"]
    await probe_app.state.error_log.flush()
    response = await probe.get(f"/api/error-logs/{error_id}", headers=operator.headers)
    assert response.status_code == 200
    assert "secret internal detail" in response.json()["stack"]
    missing = await probe.get(f"/api/error-logs/{uuid.uuid4().hex}", headers=operator.headers)
    assert missing.status_code == 404


async def test_error_logs_filter_by_type_user_and_time(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    anonymous = (await probe.get("/_probe/boom")).json()["error_id"]
    named = (await probe.get("/_probe/users/x/boom", headers=operator.headers)).json()["error_id"]
    await probe_app.state.error_log.flush()
    old = uuid.uuid4().hex
    await probe_app.state.mongo_db.error_logs.insert_one(
        {
            "_id": old,
            "userId": None,
            "errorType": "RuntimeError",
            "message": "long ago",
            "stack": "",
            "context": {"method": "GET", "path": "/", "query": []},
            "severity": "error",
            "timestamp": datetime.now(UTC) - timedelta(days=3),
        }
    )

    async def listed(**params: Any) -> list[str]:
        response = await probe.get("/api/error-logs", headers=operator.headers, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed(error_type="RuntimeError") == [anonymous, old]
    assert await listed(error_type="KeyError") == [named]
    assert await listed(user_id=str(operator.id)) == [named]
    assert await listed(user_id=str(operator.id), error_type="RuntimeError") == []
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await listed(error_type="RuntimeError", **{"from": since}) == [anonymous]
    assert await listed(to=since) == [old]


async def test_error_log_pages_follow_each_other_without_overlap(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    errors = [(await probe.get("/_probe/boom")).json()["error_id"] for _ in range(3)]
    await probe_app.state.error_log.flush()
    first = (
        await probe.get("/api/error-logs", headers=operator.headers, params={"limit": 2})
    ).json()
    second = (
        await probe.get(
            "/api/error-logs",
            headers=operator.headers,
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    listed = [i["id"] for i in first["items"]] + [i["id"] for i in second["items"]]
    assert listed == list(reversed(errors))
    assert second["next_cursor"] is None


async def test_error_log_bad_filters_are_a_422(
    probe: httpx.AsyncClient, operator: TestUser
) -> None:
    for params in (
        {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
        {"user_id": "nope"},
        {"error_type": "$where"},
        {"severity": "error"},
    ):
        response = await probe.get("/api/error-logs", headers=operator.headers, params=params)
        assert response.status_code == 422, params


async def test_error_logs_need_their_permission(
    probe_app: FastAPI, probe: httpx.AsyncClient
) -> None:
    learner = await login(probe, await make_user(probe_app))
    assert (await probe.get("/api/error-logs", headers=learner.headers)).status_code == 403
    error_id = uuid.uuid4().hex
    response = await probe.get(f"/api/error-logs/{error_id}", headers=learner.headers)
    assert response.status_code == 403


async def test_erasure_deletes_the_users_error_logs(
    probe_app: FastAPI, probe: httpx.AsyncClient, operator: TestUser
) -> None:
    victim = await login(probe, await make_user(probe_app))
    error_id = (await probe.get("/_probe/users/x/boom", headers=victim.headers)).json()["error_id"]
    assert await stored_error(probe_app, error_id) is not None
    response = await probe.delete(f"/api/users/{victim.id}", headers=operator.headers)
    assert response.status_code == 204
    assert await stored_error(probe_app, error_id) is None


async def test_export_shows_the_users_errors_without_internals(
    probe_app: FastAPI, probe: httpx.AsyncClient
) -> None:
    user = await login(probe, await make_user(probe_app))
    error_id = (await probe.get("/_probe/users/x/boom", headers=user.headers)).json()["error_id"]
    await probe_app.state.error_log.flush()
    response = await probe.get(f"/api/users/{user.id}/export", headers=user.headers)
    [entry] = response.json()["mongodb"]["error_logs"]
    assert entry["_id"] == error_id
    assert entry["context"]["route"] == "/_probe/users/{user_id}/boom"
    assert "stack" not in entry
    assert "message" not in entry
    assert "Traceback" not in response.text
