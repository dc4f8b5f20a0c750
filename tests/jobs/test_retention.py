"""Activity and error logs expire after their retention; audit logs are kept forever."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from oneenglish.jobs.retention import purge_logs
from oneenglish.settings import Settings
from tests.processes import run_cli

NOW = datetime(2031, 6, 1, tzinfo=UTC)


async def seed(app: FastAPI, collection: str, ages_in_days: list[float]) -> list[str]:
    documents = [
        {
            "_id": uuid.uuid4().hex,
            "userId": None,
            "action": "seeded",
            "entity": "thing",
            "entityId": "1",
            "errorType": "RuntimeError",
            "timestamp": NOW - timedelta(days=age),
        }
        for age in ages_in_days
    ]
    await app.state.mongo_db[collection].insert_many(documents)
    return [str(d["_id"]) for d in documents]


async def remaining(app: FastAPI, collection: str) -> set[str]:
    cursor = app.state.mongo_db[collection].find({}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


async def test_purge_deletes_activity_past_its_retention_and_keeps_the_rest(
    app: FastAPI, settings: Settings
) -> None:
    days = settings.activity_retention_days
    _old, _edge, recent = await seed(app, "user_activities", [days + 1, days + 0.01, days - 1])
    report = await purge_logs(app.state.mongo_db, settings, now=NOW)
    assert report.activities == 2
    assert await remaining(app, "user_activities") == {recent}


async def test_purge_deletes_error_logs_past_their_retention_and_keeps_the_rest(
    app: FastAPI, settings: Settings
) -> None:
    days = settings.error_log_retention_days
    _old, recent = await seed(app, "error_logs", [days + 1, days - 1])
    report = await purge_logs(app.state.mongo_db, settings, now=NOW)
    assert report.error_logs == 1
    assert await remaining(app, "error_logs") == {recent}


async def test_retention_follows_the_settings(app: FastAPI, settings: Settings) -> None:
    short = settings.model_copy(update={"activity_retention_days": 1})
    _old, recent = await seed(app, "user_activities", [2, 0.5])
    await purge_logs(app.state.mongo_db, short, now=NOW)
    assert await remaining(app, "user_activities") == {recent}


async def test_purge_never_touches_audit_logs(app: FastAPI, settings: Settings) -> None:
    ancient = await seed(app, "audit_logs", [10_000, 400, 1])
    await purge_logs(app.state.mongo_db, settings, now=NOW)
    assert await remaining(app, "audit_logs") >= set(ancient)


async def test_purge_logs_command_deletes_expired_entries(app: FastAPI, migrated: Settings) -> None:
    now = datetime.now(UTC)
    await app.state.mongo_db.user_activities.insert_many(
        [
            {"_id": "expired", "userId": None, "timestamp": now - timedelta(days=400)},
            {"_id": "kept", "userId": None, "timestamp": now},
        ]
    )
    process = run_cli(migrated, "purge-logs")
    out, _ = await asyncio.to_thread(process.communicate, None, 120)
    assert process.returncode == 0, out
    assert "deleted 1 activity entries" in out.decode()
    assert await remaining(app, "user_activities") == {"kept"}
