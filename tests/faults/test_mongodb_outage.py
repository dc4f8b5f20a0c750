"""MongoDB down during requests: nothing half-created, nothing acknowledged lost."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.stack.manager import Stack
from tests.factories import PASSWORD, TestUser, login, make_user
from tests.helpers import eventually, pg_scalar, unfinished_sagas, user_documents

pytestmark = pytest.mark.faults


async def test_registration_with_mongodb_stopped_is_a_503_that_leaves_nothing(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    fault_stack.ferretdb.kill()
    response = await fault_client.post(
        "/api/auth/register",
        json={"email": "lost@example.com", "username": "lost_1", "password": PASSWORD},
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["database"] == "MongoDB"
    assert await pg_scalar(fault_app, "SELECT count(*) FROM users") == 0

    fault_stack.ferretdb.start()
    fault_app.state.saga_runner.kick()
    assert await eventually(lambda: _no_unfinished(fault_app), attempts=300)
    user_id = await pg_scalar(
        fault_app, "SELECT payload->>'user_id' FROM sagas WHERE kind = 'register_user'"
    )
    assert (
        await pg_scalar(fault_app, "SELECT status FROM sagas WHERE kind = 'register_user'")
        == "compensated"
    )
    assert await user_documents(fault_app, user_id) == (False, False)
    assert await fault_app.state.mongo_db.user_profiles.count_documents({}) == 0
    assert await fault_app.state.mongo_db.user_settings.count_documents({}) == 0


async def _no_unfinished(app: FastAPI) -> bool:
    return await unfinished_sagas(app) == 0


async def test_reads_degrade_without_mongodb_and_recover_after(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    fault_stack.ferretdb.kill()
    degraded = await fault_client.get(f"/api/users/{user.id}", headers=user.headers)
    assert degraded.status_code == 200
    body = degraded.json()
    assert body["degraded"] == ["mongodb"]
    assert body["profile"] is None
    assert body["email"] == user.email
    profile = await fault_client.get("/api/me/profile", headers=user.headers)
    assert profile.status_code == 503
    assert profile.json()["database"] == "MongoDB"

    fault_stack.ferretdb.start()

    async def whole_again() -> bool:
        response = await fault_client.get(f"/api/users/{user.id}", headers=user.headers)
        return response.status_code == 200 and response.json()["degraded"] == []

    assert await eventually(whole_again)


async def test_an_update_made_while_mongodb_is_down_is_audited_exactly_once_after(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user: TestUser = await login(fault_client, await make_user(fault_app))
    fault_stack.ferretdb.kill()
    response = await fault_client.patch(
        f"/api/users/{user.id}", headers=user.headers, json={"last_name": "Offline"}
    )
    assert response.status_code == 200  # a PostgreSQL change: MongoDB is not needed for it

    fault_stack.ferretdb.start()
    audit_logs = fault_app.state.mongo_db.audit_logs
    query = {"action": "user.updated", "entityId": str(user.id)}

    async def delivered() -> bool:
        return bool(await audit_logs.count_documents(query) > 0)

    assert await eventually(delivered, attempts=600)
    fault_app.state.saga_runner.kick()
    assert await eventually(lambda: _no_unfinished(fault_app), attempts=300)
    assert await audit_logs.count_documents(query) == 1
    entry = await audit_logs.find_one(query)
    assert entry["changes"]["after"]["last_name"] == "Offline"
    async with fault_app.state.engine.connect() as conn:
        applied = (
            await conn.execute(
                text("SELECT (steps->'deliver'->>'applied')::int FROM sagas WHERE id::text = :id"),
                {"id": entry["_id"]},
            )
        ).scalar_one()
    assert applied == 1


async def test_erasure_with_mongodb_down_finishes_when_it_is_back(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    fault_stack.ferretdb.kill()
    response = await fault_client.delete(f"/api/users/{user.id}", headers=user.headers)
    assert response.status_code == 503
    assert response.json()["erasure"] == "pending"
    # Deactivated at once: the erased user's tokens no longer work.
    assert (await fault_client.get("/api/auth/me", headers=user.headers)).status_code == 401

    fault_stack.ferretdb.start()
    fault_app.state.saga_runner.kick()

    async def erased() -> bool:
        rows = await pg_scalar(
            fault_app, "SELECT count(*) FROM users WHERE id = :id", id=str(user.id)
        )
        return rows == 0 and await user_documents(fault_app, user.id) == (False, False)

    assert await eventually(erased, attempts=600)


async def test_postgresql_down_is_a_503_not_a_500(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    # Reads on the driver (the principal, the catalogue page) and through the ORM (the account).
    paths = [f"/api/users/{user.id}", "/api/auth/me", "/api/courses?level=B1"]
    for path in paths:  # every one has a pooled connection to lose
        assert (await fault_client.get(path, headers=user.headers)).status_code == 200
    fault_stack.postgres.kill()
    try:
        for path in paths:
            response = await fault_client.get(path, headers=user.headers)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        login_attempt = await fault_client.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert login_attempt.status_code == 503
    finally:
        fault_stack.postgres.start()

    async def all_answer() -> bool:
        for path in paths:
            response = await fault_client.get(path, headers=user.headers)
            if response.status_code != 200:
                return False
        return True

    # The lost connections were dropped from the pool, not handed out again.
    assert await eventually(all_answer, attempts=100)
