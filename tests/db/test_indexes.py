"""Every list query is backed by an index: its equality fields, then its sort fields.

Each MongoDB model module declares its list queries as LIST_QUERIES (collection, equality
fields, sort fields). This checks that the live database has an index whose keys begin with
exactly those fields, and that the query runs through `explain`. FerretDB 1.24 does not use
secondary indexes to serve reads, so the plan itself is not inspected; on MongoDB these are the
indexes its planner picks for these shapes."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi import FastAPI

from oneenglish import models

QueryShape = tuple[str, tuple[str, ...], tuple[str, ...]]


def declared_queries() -> list[QueryShape]:
    shapes: list[QueryShape] = []
    for name in models.MODEL_MODULES:
        shapes.extend(getattr(importlib.import_module(name), "LIST_QUERIES", ()))
    return shapes


SHAPES = declared_queries()


def test_list_queries_are_declared() -> None:
    collections = {collection for collection, _, _ in SHAPES}
    assert {"chat_messages", "notifications", "achievements", "lesson_progress"} <= collections


@pytest.mark.parametrize(
    ("collection", "equality", "sort"), SHAPES, ids=[f"{c}:{'+'.join(e)}" for c, e, _ in SHAPES]
)
async def test_an_index_serves_the_query(
    app: FastAPI, collection: str, equality: tuple[str, ...], sort: tuple[str, ...]
) -> None:
    database = app.state.mongo_db
    wanted = [*equality, *sort]
    indexes = await (await database[collection].list_indexes()).to_list()
    prefixes = [list(index["key"].keys())[: len(wanted)] for index in indexes]
    assert wanted in prefixes, f"no index on {collection} starts with {wanted}: {prefixes}"

    command: dict[str, Any] = {
        "find": collection,
        "filter": {field: "probe" for field in equality},
        "sort": {field: -1 for field in sort},
        "limit": 10,
    }
    explained = await database.command("explain", command)
    assert explained.get("ok") == 1.0
