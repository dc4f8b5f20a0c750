"""The API process killed with SIGKILL mid-saga: after a restart and recovery, every user is
complete in both databases or absent from both, and every 201 a client saw is complete."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.jobs.reconcile import reconcile
from oneenglish.settings import Settings
from tests.factories import PASSWORD
from tests.helpers import eventually, pg_scalar, unfinished_sagas, user_documents, user_row_exists
from tests.processes import ApiProcess

pytestmark = pytest.mark.faults

# A restarted API takes over a dead process's saga once this lease has passed.
LEASE = 2


def registration(n: int) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "email": f"crash{n}_{tag}@example.com",
        "username": f"crash{n}_{tag}",
        "password": PASSWORD,
    }


async def no_unfinished_sagas(app: FastAPI) -> bool:
    return await unfinished_sagas(app) == 0


async def assert_databases_agree(app: FastAPI) -> None:
    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=False
    )
    assert report.found == 0, report


async def test_killed_between_the_postgresql_commit_and_mongodb_is_finished_on_restart(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_settings: Settings
) -> None:
    paused = ApiProcess(
        fault_settings, test_pause_before_saga_steps=30, saga_recovery_window_seconds=LEASE
    )
    paused.start()
    await paused.wait_ready()
    body = registration(0)
    async with httpx.AsyncClient(base_url=paused.url, timeout=60) as client:
        request = asyncio.create_task(client.post("/api/auth/register", json=body))

        async def intent_committed() -> bool:
            return bool(
                await pg_scalar(
                    fault_app,
                    "SELECT count(*) FROM sagas "
                    "WHERE kind = 'register_user' AND status = 'pending'",
                )
            )

        assert await eventually(intent_committed)
        user_id = await pg_scalar(
            fault_app, "SELECT id FROM users WHERE email = :e", e=body["email"]
        )
        assert await user_documents(fault_app, user_id) == (False, False)  # half-created now

        paused.kill()
        with pytest.raises(httpx.TransportError):
            await request  # the client never got an answer

    restarted = ApiProcess(fault_settings, saga_recovery_window_seconds=LEASE)
    restarted.start()
    try:
        await restarted.wait_ready()
        assert await eventually(lambda: no_unfinished_sagas(fault_app), attempts=300)
    finally:
        restarted.stop()
    assert await user_row_exists(fault_app, user_id)
    assert await user_documents(fault_app, user_id) == (True, True)
    await assert_databases_agree(fault_app)


async def test_random_kill_under_concurrent_registrations_leaves_no_half_user(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_settings: Settings
) -> None:
    api = ApiProcess(fault_settings, saga_recovery_window_seconds=LEASE)
    api.start()
    await api.wait_ready()
    acknowledged: list[str] = []

    async def register(client: httpx.AsyncClient, n: int) -> None:
        try:
            response = await client.post("/api/auth/register", json=registration(n))
        except httpx.TransportError:
            return  # killed before it answered: not acknowledged
        if response.status_code == 201:
            acknowledged.append(response.json()["id"])

    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=api.url, timeout=60, limits=limits) as client:
        requests = [asyncio.create_task(register(client, n)) for n in range(40)]
        await asyncio.sleep(random.uniform(0.3, 1.5))
        api.kill()
        await asyncio.gather(*requests)

    restarted = ApiProcess(fault_settings, saga_recovery_window_seconds=LEASE)
    restarted.start()
    try:
        await restarted.wait_ready()
        assert await eventually(lambda: no_unfinished_sagas(fault_app), attempts=300)
    finally:
        restarted.stop()

    for user_id in acknowledged:
        assert await user_row_exists(fault_app, user_id)
        assert await user_documents(fault_app, user_id) == (True, True)
    await assert_databases_agree(fault_app)
    users = await pg_scalar(fault_app, "SELECT count(*) FROM users")
    profiles = await fault_app.state.mongo_db.user_profiles.count_documents({})
    settings_docs = await fault_app.state.mongo_db.user_settings.count_documents({})
    assert users == profiles == settings_docs
    assert users >= len(acknowledged)


async def test_a_sign_up_killed_after_its_commit_is_given_back_to_a_retry_with_its_key(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_settings: Settings
) -> None:
    # The client never learns whether the first attempt happened; the key makes the retry safe.
    paused = ApiProcess(
        fault_settings, test_pause_before_saga_steps=30, saga_recovery_window_seconds=LEASE
    )
    paused.start()
    await paused.wait_ready()
    body = registration(99)
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=paused.url, timeout=60) as client:
        request = asyncio.create_task(client.post("/api/auth/register", json=body, headers=headers))

        async def committed() -> bool:
            return bool(await pg_scalar(fault_app, "SELECT count(*) FROM idempotency_keys"))

        assert await eventually(committed)
        paused.kill()
        with pytest.raises(httpx.TransportError):
            await request

    restarted = ApiProcess(fault_settings, saga_recovery_window_seconds=LEASE)
    restarted.start()
    try:
        await restarted.wait_ready()
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as client:

            async def retried() -> httpx.Response | None:
                response = await client.post("/api/auth/register", json=body, headers=headers)
                return None if response.status_code == 409 else response  # still completing

            response = None
            for _ in range(100):
                response = await retried()
                if response is not None:
                    break
                await asyncio.sleep(0.2)
    finally:
        restarted.stop()
    assert response is not None
    assert response.status_code == 201, response.text
    assert response.headers["idempotent-replayed"] == "true"
    assert await pg_scalar(fault_app, "SELECT count(*) FROM users") == 1
    assert await user_documents(fault_app, response.json()["id"]) == (True, True)
