"""MongoDB down: requests are still answered, and the activity they record is written once
MongoDB is back (each entry once)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

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
        return writer.retries > retries_before

    assert await eventually(write_failed)  # the writer met the outage and holds its batch
    fault_stack.ferretdb.start()

    async def written() -> bool:
        return await activities.count_documents({"userId": str(user.id)}) >= 3

    assert await eventually(written, attempts=900)
    await fault_app.state.activity_log.flush()
    assert await activities.count_documents({"userId": str(user.id)}) == 3
    assert fault_app.state.activity_log.dropped == 0
