"""Sharding plans checked against the indexes; majority writes; read-mostly reads."""

from __future__ import annotations

import subprocess

import pytest
from fastapi import FastAPI
from pymongo import ReadPreference

from oneenglish import models
from oneenglish.db import encryption, mongo, sharding
from oneenglish.db.mongo import IndexSpec
from oneenglish.db.sharding import CollectionPlan
from oneenglish.settings import Settings
from tests.processes import CLI, environment

models.load_all()


def test_every_collection_has_a_plan() -> None:
    collections = sharding.registered_collections() | {r.collection for r in mongo.references()}
    assert sharding.unplanned(collections) == []


async def test_every_collection_in_the_live_database_has_a_plan(app: FastAPI) -> None:
    database = app.state.mongo_db
    live = set(await database.list_collection_names())
    key_vault = app.state.settings.key_vault_namespace.split(".", 1)[1]
    assert sharding.unplanned(live - {key_vault}) == []


def test_every_shard_key_is_indexed_and_every_unique_index_starts_with_it() -> None:
    assert sharding.plan_problems(sharding.plans(), mongo.registered_indexes()) == []
    assert any(plan.shard_key for plan in sharding.plans())


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        (CollectionPlan("c", (("b", 1),), "-"), "shard key {'b': 1} is no index's prefix"),
        (
            CollectionPlan("c", (("a", 1), ("c", 1)), "-"),
            "shard key {'a': 1, 'c': 1} is no index's prefix",
        ),
        (CollectionPlan("u", (("b", 1),), "-"), "unique index uq_u_a does not start with"),
        (CollectionPlan("d", (("a", -1),), "-"), "a ranged shard key is ascending"),
        (
            CollectionPlan("c", (("a", 1), ("createdAt", 1)), "-", inserted_once=True),
            "inserted once by _id, but its shard key holds a time",
        ),
    ],
)
def test_a_misconfigured_plan_is_caught(plan: CollectionPlan, problem: str) -> None:
    indexes = [
        IndexSpec("c", (("a", 1), ("createdAt", 1)), "ix_c_a"),
        IndexSpec("u", (("a", 1),), "uq_u_a", unique=True),
        IndexSpec("u", (("b", 1),), "ix_u_b"),
        IndexSpec("d", (("a", -1),), "ix_d_a"),
    ]
    problems = sharding.plan_problems([plan], indexes)
    assert len(problems) == 1
    assert problem in problems[0]


def test_the_printed_plan_shards_what_is_planned_and_says_why_for_the_rest(
    migrated: Settings,
) -> None:
    result = subprocess.run(
        [str(CLI), "mongo", "shard-plan"],
        env=environment(migrated),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    database = migrated.mongodb_database
    assert lines[0] == f'sh.enableSharding("{database}")'
    assert f'sh.shardCollection("{database}.lesson_progress", {{userId: 1, lessonId: 1}})' in lines
    sharded = [plan for plan in sharding.plans() if plan.shard_key]
    assert sum(line.startswith("sh.shardCollection(") for line in lines) == len(sharded)
    assert any(line.startswith("// lesson_contents: not sharded: ") for line in lines)


def test_saga_steps_and_audit_entries_are_acknowledged_by_a_majority(app: FastAPI) -> None:
    assert app.state.saga_runner.mongo.write_concern.document == {"w": "majority"}
    # What is bound to the database handle (the field cipher) comes with it.
    assert encryption.for_database(app.state.saga_runner.mongo) is app.state.field_cipher


async def test_read_mostly_collections_follow_the_setting_and_others_stay_on_the_primary(
    app: FastAPI,
) -> None:
    database = app.state.mongo_db.client[app.state.settings.mongodb_database]
    sharding.bind_read_preference(database, "secondaryPreferred")
    contents = sharding.read_mostly(database, "lesson_contents")
    assert contents.read_preference == ReadPreference.SECONDARY_PREFERRED
    assert sharding.read_mostly(database, "user_profiles").read_preference == ReadPreference.PRIMARY
    # A single server (FerretDB here) serves a secondaryPreferred read itself.
    assert await contents.find_one({"_id": "no-such-lesson"}) is None
    # The application's own handle reads on the primary by default.
    default = sharding.read_mostly(app.state.mongo_db, "lesson_contents")
    assert default.read_preference == ReadPreference.PRIMARY
