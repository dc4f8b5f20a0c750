"""Drift made by hand, in both directions, is found, reported and repaired."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.db import encryption
from oneenglish.jobs.reconcile import reconcile
from oneenglish.settings import Settings
from tests.factories import SAMPLE_CONTENT, enroll, logged_in, make_course, make_lesson, make_user
from tests.helpers import user_documents
from tests.processes import run_cli


async def make_drift(app: FastAPI) -> tuple[uuid.UUID, str]:
    user = await make_user(app)
    mongo = app.state.mongo_db
    await mongo.user_profiles.delete_one({"_id": str(user.id)})  # a row without its profile
    ghost = str(uuid.uuid4())
    now = datetime.now(UTC)
    await mongo.user_settings.insert_one(  # a document whose user does not exist
        {"_id": ghost, "userId": ghost, "settings": {}, "createdAt": now, "updatedAt": now}
    )
    return user.id, ghost


async def test_reconcile_reports_drift_in_both_directions_without_touching_it(
    app: FastAPI,
) -> None:
    await make_user(app)  # a healthy user is not drift
    user_id, ghost = await make_drift(app)
    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=False
    )
    assert report.users_checked == 2
    assert report.missing_profiles == [str(user_id)]
    assert report.missing_settings == []
    assert report.orphans == {"user_settings.userId": [ghost]}
    assert report.remaining == 2
    assert await app.state.mongo_db.user_settings.find_one({"_id": ghost}) is not None


async def test_reconcile_repairs_and_then_finds_nothing(app: FastAPI) -> None:
    user_id, ghost = await make_drift(app)
    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=True
    )
    assert report.found == report.repaired == 2
    assert report.remaining == 0
    assert await user_documents(app, user_id) == (True, True)
    assert await app.state.mongo_db.user_settings.find_one({"_id": ghost}) is None
    again = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=True
    )
    assert again.found == 0


async def test_reconcile_command_exits_non_zero_while_drift_remains(
    app: FastAPI, migrated: Settings
) -> None:
    await make_drift(app)

    async def run(*args: str) -> tuple[int, str]:
        process = run_cli(migrated, "reconcile", *args)
        out, _ = await asyncio.to_thread(process.communicate, None, 120)
        return process.returncode, out.decode()

    code, out = await run()
    assert code == 1, out
    assert "users without a profile:  1" in out
    assert "documents in user_settings.userId pointing at missing rows: 1" in out
    code, out = await run("--repair")
    assert code == 0, out
    code, out = await run()
    assert code == 0, out
    assert "drift found: 0" in out


async def test_reconcile_finds_learning_documents_whose_rows_are_gone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    learner = await logged_in(app, client)
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"completed_steps": ["intro"]},
    )
    async with app.state.engine.begin() as conn:  # behind the application's back
        await conn.execute(text("DELETE FROM lessons WHERE id = :id"), {"id": lesson["id"]})

    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=True
    )
    assert report.orphans == {
        "lesson_contents.lessonId": [lesson["id"]],
        "lesson_progress.lessonId": [lesson["id"]],
    }
    assert report.remaining == 0
    assert await app.state.mongo_db.lesson_contents.count_documents({}) == 0
    assert await app.state.mongo_db.lesson_progress.count_documents({}) == 0


async def test_reconcile_destroys_the_data_keys_of_users_who_are_gone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A data key without its user (a row deleted by hand, a restore): its owner is gone, so
    the key goes, as erasure would have taken it."""
    learner = await logged_in(app, client)
    patched = await client.patch(
        "/api/me/profile", headers=learner.headers, json={"city": "Lisbon"}
    )
    assert patched.status_code == 200
    ghost = str(uuid.uuid4())
    cipher = encryption.for_database(app.state.mongo_db)
    await cipher.encrypt(ghost, "a value of nobody's")
    report = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=False
    )
    assert report.orphans == {"key_vault.keyAltNames": [ghost]}
    repaired = await reconcile(
        app.state.sessionmaker, app.state.mongo_db, app.state.settings, repair=True
    )
    assert repaired.repaired == 1
    assert not await cipher.has_key(ghost)
    assert await cipher.has_key(str(learner.id))
