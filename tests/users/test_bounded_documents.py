"""Free-form documents stay within their bounds however often they are patched; audit entries
quote them bounded; and entries written before those bounds (megabytes each) are read, listed
and exported without a 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import orjson
from fastapi import FastAPI

from oneenglish.audit.service import MAX_SIDE_BYTES
from oneenglish.user_settings.service import MAX_SETTINGS_BYTES, MAX_SETTINGS_KEYS
from tests.core.test_problems import assert_problem
from tests.factories import logged_in


async def test_patches_that_add_up_past_the_settings_bound_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    chunk = "x" * 9_000  # a setting's strings are at most 10 000 characters
    statuses = [
        (
            await client.patch(
                "/api/me/settings", headers=learner.headers, json={"settings": {f"k{n}": chunk}}
            )
        ).status_code
        for n in range(9)
    ]
    assert statuses == [200] * 7 + [422] * 2  # 7 × 9 KB fit in 64 KiB, 8 do not
    refused = await client.patch(
        "/api/me/settings", headers=learner.headers, json={"settings": {"k9": chunk}}
    )
    problem = assert_problem(refused, 422)
    assert problem["limit_bytes"] == MAX_SETTINGS_BYTES
    stored = await app.state.mongo_db.user_settings.find_one({"_id": str(learner.id)})
    assert len(orjson.dumps(stored["settings"])) <= MAX_SETTINGS_BYTES
    # Removing keys makes room again.
    freed = await client.patch(
        "/api/me/settings", headers=learner.headers, json={"settings": {"k0": None, "k9": chunk}}
    )
    assert freed.status_code == 200
    assert "k0" not in freed.json()["settings"]


async def test_settings_hold_a_bounded_number_of_keys(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    defaults = len(app.state.settings.default_user_settings)

    async def add(names: range) -> httpx.Response:
        return await client.patch(
            "/api/me/settings",
            headers=learner.headers,
            json={"settings": {f"key{n}": n for n in names}},
        )

    assert (await add(range(100))).status_code == 200
    assert (await add(range(100, MAX_SETTINGS_KEYS - defaults))).status_code == 200
    over = await add(range(1000, 1001))
    assert assert_problem(over, 422)["limit_keys"] == MAX_SETTINGS_KEYS


async def test_an_audit_entry_quotes_large_values_as_summaries(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    big = {f"part{n}": "y" * 5_000 for n in range(5)}
    await client.patch("/api/me/settings", headers=learner.headers, json={"settings": {"b": big}})
    entry = await app.state.mongo_db.audit_logs.find_one(
        {"action": "settings.updated", "entityId": str(learner.id)}
    )
    after = entry["changes"]["after"]
    assert len(orjson.dumps(after)) <= MAX_SIDE_BYTES
    assert after["b"]["_summarised"] is True
    assert after["b"]["bytes"] == len(orjson.dumps(big))
    assert len(after["b"]["sha256"]) == 64


async def test_oversized_entries_from_before_the_bound_are_listed_and_exported(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await logged_in(app, client, roles=("admin",))
    learner = await logged_in(app, client)
    huge = {"settings": {"k": "z" * (3 * 1024 * 1024)}}
    # As an older version wrote them: whole before/after, ~6 MB an entry, 9 of them (more than
    # the 48 MB one reply may carry).
    await app.state.mongo_db.audit_logs.insert_many(
        [
            {
                "_id": uuid.uuid4().hex,
                "actorId": str(learner.id),
                "action": "settings.updated",
                "entity": "user_settings",
                "entityId": str(learner.id),
                "changes": {"before": huge, "after": huge},
                "ipAddress": "127.0.0.1",
                "requestId": None,
                "timestamp": datetime.now(UTC),
            }
            for _ in range(9)
        ]
    )
    page = await client.get(
        "/api/audit-logs", params={"actor": str(learner.id)}, headers=admin.headers
    )
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert len(items) >= 8
    assert all(len(orjson.dumps(i["changes"])) <= 2 * MAX_SIDE_BYTES + 64 for i in items)
    exported = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    assert exported.status_code == 200
    assert len(exported.content) < 1024 * 1024
    await app.state.mongo_db.audit_logs.delete_many({"actorId": str(learner.id)})
