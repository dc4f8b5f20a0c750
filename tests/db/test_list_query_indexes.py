"""Every list query built for operations has an index whose key prefix matches it (equality
fields, then the newest-first sort), and MongoDB's `explain` accepts the query as built.

FerretDB 1.24 serves no read from a secondary index (docs: /work/shared/ferretdb.md), so this
does not assert an IXSCAN: the indexes are for a real MongoDB in production; here we check that
they exist in the live database and that the queries are well-formed."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from oneenglish.activity import repository as activity
from oneenglish.audit import repository as audit
from oneenglish.error_logs import repository as error_logs

NOW = datetime(2030, 1, 1, tzinfo=UTC)
AFTER = (NOW, uuid.uuid4().hex)
SORT = [("timestamp", -1), ("_id", -1)]

Shape = tuple[str, dict[str, Any], list[tuple[str, int]], frozenset[str]]


def _flags(count: int) -> Iterator[tuple[bool, ...]]:
    return itertools.product((False, True), repeat=count)


def shapes() -> Iterator[Shape]:
    """(collection, filter, sort, equality fields) of every query the list endpoints send:
    each combination of filters, with and without a time range and a cursor."""
    for with_cursor in (False, True):
        after = AFTER if with_cursor else None
        query, sort = activity.list_query(str(uuid.uuid4()), after)
        yield "user_activities", query, sort, frozenset({"userId"})
        for actor, entity, entity_id, ranged in _flags(4):
            if entity_id and not entity:
                continue  # refused with a 422 by AuditLogQuery
            query, sort = audit.list_query(
                actor_id=str(uuid.uuid4()) if actor else None,
                entity="user" if entity else None,
                entity_id=str(uuid.uuid4()) if entity_id else None,
                start=NOW - timedelta(days=1) if ranged else None,
                end=NOW if ranged else None,
                after=after,
            )
            fields = {"actorId"} if actor else set()
            fields |= {"entity"} if entity else set()
            fields |= {"entityId"} if entity_id else set()
            yield "audit_logs", query, sort, frozenset(fields)
        for error_type, user, ranged in _flags(3):
            query, sort = error_logs.list_query(
                error_type="RuntimeError" if error_type else None,
                user_id=str(uuid.uuid4()) if user else None,
                start=NOW - timedelta(days=1) if ranged else None,
                end=NOW if ranged else None,
                after=after,
            )
            fields = {"errorType"} if error_type else set()
            fields |= {"userId"} if user else set()
            yield "error_logs", query, sort, frozenset(fields)


SHAPES = list(shapes())


def serves(index_keys: list[tuple[str, int]], equality: frozenset[str], sort: list[Any]) -> bool:
    """The index starts with the equality fields (in any order), then the sort fields in the
    sort's directions (or all reversed: an index can be walked backwards)."""
    head, tail = index_keys[: len(equality)], index_keys[len(equality) :]
    if {name for name, _ in head} != equality:
        return False
    wanted = [(name, direction) for name, direction in sort]
    reversed_ = [(name, -direction) for name, direction in sort]
    return tail[: len(sort)] in (wanted, reversed_)


@pytest.mark.parametrize(
    ("collection", "query", "sort", "equality"),
    SHAPES,
    ids=[f"{c}:{'+'.join(sorted(e)) or 'all'}:{i}" for i, (c, _, _, e) in enumerate(SHAPES)],
)
async def test_list_query_has_an_index_and_is_accepted_by_explain(
    app: FastAPI,
    collection: str,
    query: dict[str, Any],
    sort: list[tuple[str, int]],
    equality: frozenset[str],
) -> None:
    assert sort == SORT
    db = app.state.mongo_db
    indexes = [list(index["key"].items()) async for index in await db[collection].list_indexes()]
    assert any(serves(keys, equality, sort) for keys in indexes), (equality, indexes)
    plan = await db.command("explain", {"find": collection, "filter": query, "sort": dict(sort)})
    assert plan["ok"] == 1
    assert "queryPlanner" in plan
