"""The data export covers every table that holds rows about a user, driven by the registry
(db.postgres.register_user_table); a new table that references users and is neither exported
nor excluded with a reason fails here."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import Table

from oneenglish import models
from oneenglish.app import create_app
from oneenglish.db.postgres import Base, user_tables
from oneenglish.settings import Settings
from tests.factories import enroll, logged_in, make_course, make_lesson


def tables_about_users() -> set[str]:
    """Tables with a foreign key to users, and (transitively) tables whose rows are deleted
    with such a table's rows (ON DELETE CASCADE)."""
    models.load_all()
    tables: dict[str, Table] = dict(Base.metadata.tables)
    found = {
        name
        for name, table in tables.items()
        if any(fk.column.table.name == "users" for fk in table.foreign_keys)
    }
    found.add("users")
    dies_with_user = {"users"} | {
        name
        for name in found
        if any(
            fk.column.table.name == "users" and fk.ondelete == "CASCADE"
            for fk in tables[name].foreign_keys
        )
    }
    while True:
        more = {
            name
            for name, table in tables.items()
            if name not in dies_with_user
            and any(
                fk.column.table.name in dies_with_user and fk.ondelete == "CASCADE"
                for fk in table.foreign_keys
            )
        }
        if not more:
            return found | dies_with_user
        dies_with_user |= more


def test_every_table_about_users_is_exported_or_excluded_with_a_reason(settings: Settings) -> None:
    create_app(settings)  # imports every domain, whose services register their tables
    registered = {t.table for t in user_tables()}
    assert tables_about_users() - registered == set()
    for table in user_tables():
        assert table.export is not None or len(table.excluded_because) > 20


async def test_the_export_holds_every_registered_part(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    learner = await logged_in(app, client)
    await enroll(client, learner, course["id"])
    await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"time_spent_seconds": 30},
    )
    await client.post("/api/me/blocks", headers=learner.headers, json={"user_id": str(teacher.id)})
    await client.post(
        "/api/auth/login", json={"email": learner.email, "password": "Not-the-password-1"}
    )
    exported = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    assert exported.status_code == 200
    postgres = exported.json()["postgresql"]
    assert set(postgres) == {t.name for t in user_tables() if t.export}
    assert [e["course_id"] for e in postgres["enrollments"]] == [course["id"]]
    assert postgres["lesson_activity"][0]["time_spent_seconds"] == 30
    assert postgres["blocks"][0]["blocked_user_id"] == str(teacher.id)
    assert postgres["login_throttles"][0]["failures"] == 1
    assert postgres["sessions"]
    taught = await client.get(f"/api/users/{teacher.id}/export", headers=teacher.headers)
    assert [c["id"] for c in taught.json()["postgresql"]["courses_created"]] == [course["id"]]
