"""MongoDB (or PostgreSQL) down: requests are still answered, and the activity and the error
log entries they leave are written once the outage is over (each entry once)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack
from tests.factories import login, make_user
from tests.helpers import eventually

pytestmark = pytest.mark.faults


async def test_activity_recorded_while_mongodb_is_down_is_written_when_it_is_back(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    user = await login(fault_client, await make_user(fault_app))
    activities = fault_app.state.mongo_db.user_activities
    writer = fault_app.state.activity_log.writer
    retries_before = writer.retries
    fault_stack.ferretdb.kill()
    for _ in range(3):
        # A PostgreSQL-only read: answered at once, MongoDB or not.
        assert (await fault_client.get("/api/auth/me", headers=user.headers)).status_code == 200

    async def write_failed() -> bool:
        return bool(writer.retries > retries_before)

    assert await eventually(write_failed)  # the writer met the outage and holds its batch
    fault_stack.ferretdb.start()

    async def written() -> bool:
        return bool(await activities.count_documents({"userId": str(user.id)}) >= 3)

    assert await eventually(written, attempts=900)
    await fault_app.state.activity_log.flush()
    assert await activities.count_documents({"userId": str(user.id)}) == 3
    assert fault_app.state.activity_log.dropped == 0


@pytest.fixture
async def failing_app(fault_stack: Stack, fault_settings: Settings) -> AsyncIterator[FastAPI]:
    """The application plus one route that fails: a 500 to count error-log entries by."""
    application = create_app(fault_settings)

    @application.get("/_probe/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize("outage", ["mongodb", "postgresql"])
async def test_every_500_during_an_outage_leaves_an_error_log_entry_once_it_is_over(
    failing_app: FastAPI, fault_stack: Stack, outage: str
) -> None:
    server = fault_stack.ferretdb if outage == "mongodb" else fault_stack.postgres
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        server.kill()
        try:
            responses = [await client.get("/_probe/boom") for _ in range(5)]
        finally:
            server.start()
    ids = [r.json()["error_id"] for r in responses]
    assert [r.status_code for r in responses] == [500] * 5
    errors = failing_app.state.mongo_db.error_logs

    async def all_written() -> bool:
        return bool(await errors.count_documents({"_id": {"$in": ids}}) == len(ids))

    assert await eventually(all_written, attempts=900)
    await failing_app.state.error_log.flush()
    assert failing_app.state.error_log.writer.failed == 0
    await errors.delete_many({"_id": {"$in": ids}})
