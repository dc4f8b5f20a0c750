from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI


@pytest.fixture(autouse=True)
async def _no_log_entries_left_by_earlier_tests(request: pytest.FixtureRequest) -> None:
    """Reconcile counts documents that point at missing users, exactly. Activity and error log
    entries are written in the background: one queued by an earlier test could land after that
    test's clean-up and count as drift here. Write out what is queued, then start empty."""
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    await asyncio.gather(app.state.activity_log.flush(), app.state.error_log.flush())
    mongo = app.state.mongo_db
    await asyncio.gather(mongo.user_activities.delete_many({}), mongo.error_logs.delete_many({}))
