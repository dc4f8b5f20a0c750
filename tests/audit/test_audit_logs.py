"""GET /api/audit-logs: filters, newest-first cursor pages, and the audit entries of every kind
of change (including those added with this API)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    logged_in,
    make_course,
    make_lesson,
)
from tests.helpers import eventually

BASE = datetime(2030, 1, 1, tzinfo=UTC)


async def insert_entries(app: FastAPI, count: int, **fields: object) -> list[str]:
    """Audit entries one minute apart, oldest first; returns their ids newest first."""
    documents = [
        {
            "_id": uuid.uuid4().hex,
            "actorId": None,
            "action": "thing.changed",
            "entity": "thing",
            "entityId": str(n),
            "changes": {"before": None, "after": {"n": n}},
            "ipAddress": None,
            "requestId": None,
            "timestamp": BASE + timedelta(minutes=n),
            **fields,
        }
        for n in range(count)
    ]
    await app.state.mongo_db.audit_logs.insert_many(documents)
    return [str(d["_id"]) for d in reversed(documents)]


async def audit_page(client: httpx.AsyncClient, admin: TestUser, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/audit-logs", headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


async def test_non_admin_cannot_read_the_audit_log(
    client: httpx.AsyncClient, learner: TestUser
) -> None:
    response = await client.get("/api/audit-logs", headers=learner.headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_audit_log_filters_by_actor(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    actor = str(uuid.uuid4())
    mine = await insert_entries(app, 2, actorId=actor)
    await insert_entries(app, 3, actorId=str(uuid.uuid4()))
    assert ids(await audit_page(client, admin, actor=actor)) == mine


async def test_audit_log_filters_by_entity_and_entity_id(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    things = await insert_entries(app, 3)
    gadgets = await insert_entries(app, 2, entity="gadget")
    assert ids(await audit_page(client, admin, entity="thing")) == things
    # entityId "1" exists for both kinds: the pair names one entity.
    assert ids(await audit_page(client, admin, entity="thing", entity_id="1")) == [things[1]]
    assert ids(await audit_page(client, admin, entity="gadget", entity_id="1")) == [gadgets[0]]


async def test_audit_log_filters_by_time_range_from_inclusive_to_exclusive(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    newest_first = await insert_entries(app, 5)
    page = await audit_page(
        client,
        admin,
        entity="thing",
        **{
            "from": (BASE + timedelta(minutes=1)).isoformat(),
            "to": (BASE + timedelta(minutes=3)).isoformat(),
        },
    )
    assert ids(page) == newest_first[2:4]  # minutes 2 and 1


async def test_audit_log_time_without_offset_is_utc(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    newest_first = await insert_entries(app, 3)
    page = await audit_page(client, admin, entity="thing", **{"from": "2030-01-01T00:02:00"})
    assert ids(page) == newest_first[:1]


async def test_from_after_to_is_a_422(client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await client.get(
        "/api/audit-logs",
        headers=admin.headers,
        params={"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "`from` must not be after `to`" in response.text


async def test_entity_id_without_entity_is_a_422(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.get("/api/audit-logs", headers=admin.headers, params={"entity_id": "1"})
    assert response.status_code == 422


async def test_unknown_or_malformed_filters_are_a_422(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    for params in ({"actorr": "x"}, {"actor": "not-a-uuid"}, {"limit": 0}, {"entity": "$where"}):
        response = await client.get("/api/audit-logs", headers=admin.headers, params=params)
        assert response.status_code == 422, params


async def test_pages_do_not_overlap_and_stay_stable_while_entries_arrive(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    newest_first = await insert_entries(app, 5)
    first = await audit_page(client, admin, entity="thing", limit=3)
    # Newer entries arrive between the pages; the second page continues where the first ended.
    await app.state.mongo_db.audit_logs.insert_many(
        [
            {
                "_id": uuid.uuid4().hex,
                "actorId": None,
                "action": "thing.changed",
                "entity": "thing",
                "entityId": "late",
                "changes": {"before": None, "after": None},
                "timestamp": BASE + timedelta(hours=1, minutes=n),
            }
            for n in range(3)
        ]
    )
    second = await audit_page(client, admin, entity="thing", limit=3, cursor=first["next_cursor"])
    assert ids(first) == newest_first[:3]
    assert ids(second) == newest_first[3:]
    assert second["next_cursor"] is None


async def test_entries_with_the_same_timestamp_page_by_id(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    same_time = [
        {
            "_id": f"{n:032x}",
            "actorId": None,
            "action": "thing.changed",
            "entity": "thing",
            "entityId": str(n),
            "changes": {"before": None, "after": None},
            "timestamp": BASE,
        }
        for n in range(4)
    ]
    await app.state.mongo_db.audit_logs.insert_many(same_time)
    first = await audit_page(client, admin, entity="thing", limit=2)
    second = await audit_page(client, admin, entity="thing", limit=2, cursor=first["next_cursor"])
    assert ids(first) + ids(second) == [f"{n:032x}" for n in (3, 2, 1, 0)]


async def test_tampered_audit_cursor_is_a_400(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    await insert_entries(app, 3)
    cursor = (await audit_page(client, admin, entity="thing", limit=1))["next_cursor"]
    assert isinstance(cursor, str)
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-1] ^= 1  # one bit of the signature
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    response = await client.get("/api/audit-logs", headers=admin.headers, params={"cursor": forged})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/bad-request")


async def test_a_cursor_of_another_list_is_a_400(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    for _ in range(3):
        await client.get("/api/auth/me", headers=admin.headers)
    await app.state.activity_log.flush()
    activity = await client.get(
        f"/api/users/{admin.id}/activity", headers=admin.headers, params={"limit": 1}
    )
    cursor = activity.json()["next_cursor"]
    response = await client.get("/api/audit-logs", headers=admin.headers, params={"cursor": cursor})
    assert response.status_code == 400


async def test_audit_log_cannot_be_changed_or_deleted(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    [entry_id] = await insert_entries(app, 1)
    assert (await client.delete("/api/audit-logs", headers=admin.headers)).status_code == 405
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(
            method, f"/api/audit-logs/{entry_id}", headers=admin.headers, json={}
        )
        assert response.status_code in (404, 405), method
    assert await app.state.mongo_db.audit_logs.count_documents({"_id": entry_id}) == 1


# -- mutations that are audited through this work -------------------------------------------


async def delivered(app: FastAPI, **query: object) -> dict[str, Any] | None:
    found = None

    async def arrived() -> bool:
        nonlocal found
        found = await app.state.mongo_db.audit_logs.find_one(query)
        return found is not None

    await eventually(arrived)
    return found


async def test_role_changes_are_audited_with_before_and_after(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    role = (await client.post("/api/roles", headers=admin.headers, json={"name": "editor"})).json()
    await client.patch(
        f"/api/roles/{role['id']}", headers=admin.headers, json={"description": "Edits"}
    )
    await client.put(
        f"/api/roles/{role['id']}/permissions",
        headers=admin.headers,
        json={"permissions": ["courses:read"]},
    )
    await client.delete(f"/api/roles/{role['id']}", headers=admin.headers)
    for action in ("role.created", "role.updated", "role.permissions_set", "role.deleted"):
        entry = await delivered(app, action=action, entityId=role["id"])
        assert entry is not None, action
        assert entry["actorId"] == str(admin.id)
    updated = await delivered(app, action="role.updated", entityId=role["id"])
    assert updated is not None
    assert updated["changes"] == {
        "before": {"name": "editor", "description": ""},
        "after": {"name": "editor", "description": "Edits"},
    }


async def test_permission_changes_are_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser
) -> None:
    permission = (
        await client.post(
            "/api/permissions",
            headers=admin.headers,
            json={"resource": "reports", "action": "read"},
        )
    ).json()
    await client.patch(
        f"/api/permissions/{permission['id']}", headers=admin.headers, json={"description": "R"}
    )
    await client.delete(f"/api/permissions/{permission['id']}", headers=admin.headers)
    for action in ("permission.created", "permission.updated", "permission.deleted"):
        assert await delivered(app, action=action, entityId=permission["id"]), action


async def test_sessions_and_password_changes_are_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await logged_in(app, client)
    session = await delivered(app, action="session.created", actorId=str(user.id))
    assert session is not None
    assert session["ipAddress"] == "127.0.0.1"
    await client.post("/api/auth/logout", headers=user.headers)
    assert await delivered(app, action="session.revoked", entityId=session["entityId"])
    user = await logged_in(app, client)
    response = await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": user.password, "new_password": "Another-secret-77"},
    )
    assert response.status_code == 204
    changed = await delivered(app, action="user.password_changed", entityId=str(user.id))
    assert changed is not None
    assert "Another-secret-77" not in str(changed)


async def test_refresh_token_reuse_is_audited(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await logged_in(app, client)
    spent = user.refresh_token
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": spent})
    ).status_code == 200
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": spent})
    ).status_code == 401
    entry = await delivered(app, action="session.revoked", actorId=None)
    assert entry is not None
    assert entry["changes"]["after"] == {
        "user_id": str(user.id),
        "reason": "refresh_token_reuse",
    }


async def test_audit_log_api_shows_delivered_entries(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser, learner: TestUser
) -> None:
    await client.patch("/api/me/profile", headers=learner.headers, json={"bio": "Hello"})
    page = await audit_page(client, admin, actor=str(learner.id), entity="user_profile")
    [item] = page["items"]
    assert item["action"] == "profile.updated"
    assert item["entity_id"] == str(learner.id)
    # The bio is encrypted at rest: its audit entry says it changed, never what it says.
    assert item["changes"]["after"]["bio"] == "[changed]"
    assert "Hello" not in str(item)
    assert item["ip_address"] == "127.0.0.1"


async def test_progress_and_quiz_attempts_are_audited(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser
) -> None:
    teacher = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await enroll(client, learner, course["id"])
    progress = await client.put(
        f"/api/lessons/{lesson['id']}/progress",
        headers=learner.headers,
        json={"completed_steps": ["intro"], "notes": "my private words"},
    )
    assert progress.status_code == 200
    quiz = await client.post(
        f"/api/lessons/{lesson['id']}/quiz",
        headers=learner.headers,
        json={"answers": PERFECT_ANSWERS},
    )
    assert quiz.status_code == 200
    recorded = await delivered(
        app, action="progress.recorded", entityId=f"{learner.id}:{lesson['id']}"
    )
    assert recorded is not None
    assert recorded["actorId"] == str(learner.id)
    assert "my private words" not in str(recorded)
    attempt = await delivered(app, action="quiz.submitted", entityId=quiz.json()["attempt_id"])
    assert attempt is not None
    assert attempt["changes"]["after"]["percent"] == quiz.json()["percent"]
