"""Direct messages and course rooms."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import TestUser, enroll, logged_in, make_course
from tests.helpers import eventually


@pytest.fixture
async def classroom(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """A course alice and bob both learn in: direct messages are for people who meet."""
    host = await logged_in(app, client, roles=("teacher",))
    return await make_course(client, host)


@pytest.fixture
async def alice(app: FastAPI, client: httpx.AsyncClient, classroom: dict[str, object]) -> TestUser:
    user = await logged_in(app, client)
    await enroll(client, user, classroom["id"])
    return user


@pytest.fixture
async def bob(app: FastAPI, client: httpx.AsyncClient, classroom: dict[str, object]) -> TestUser:
    user = await logged_in(app, client)
    await enroll(client, user, classroom["id"])
    return user


async def send(
    client: httpx.AsyncClient, sender: TestUser, path: str, text: str = "hi"
) -> httpx.Response:
    return await client.post(
        f"/api/chat/{path}/messages", headers=sender.headers, json={"message": text}
    )


async def test_a_direct_message_reaches_the_conversation_of_both(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    sent = await send(client, alice, f"direct/{bob.id}", "Hello Bob")
    assert sent.status_code == 201
    assert sent.json()["receiver_id"] == str(bob.id)
    for reader, peer in ((alice, bob), (bob, alice)):
        page = (
            await client.get(f"/api/chat/direct/{peer.id}/messages", headers=reader.headers)
        ).json()
        assert [m["message"] for m in page["items"]] == ["Hello Bob"]


async def test_messages_to_yourself_or_to_nobody_are_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: TestUser
) -> None:
    assert (await send(client, alice, f"direct/{alice.id}")).status_code == 422
    assert (await send(client, alice, f"direct/{uuid.uuid4()}")).status_code == 404
    assert await app.state.mongo_db.chat_messages.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"message": ""},
        {"message": "x" * 4001},
        {"message": "hi", "message_type": "video"},
        {"message_type": "image", "attachments": []},
        {
            "message_type": "image",
            "attachments": [
                {
                    "url": "https://x.io/a.mp3",
                    "name": "a",
                    "mime_type": "audio/mpeg",
                    "size_bytes": 1,
                }
            ],
        },
        {
            "message_type": "file",
            "attachments": [
                {"url": "ftp://x.io/a", "name": "a", "mime_type": "text/plain", "size_bytes": 1}
            ],
        },
        {
            "message_type": "file",
            "attachments": [
                {
                    "url": "https://x.io/a",
                    "name": "a",
                    "mime_type": "text/plain",
                    "size_bytes": 10**9,
                }
            ],
        },
        {"message": "hi", "sender_id": "someone"},
    ],
)
async def test_malformed_messages_are_a_422(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser, body: dict[str, object]
) -> None:
    response = await client.post(
        f"/api/chat/direct/{bob.id}/messages", headers=alice.headers, json=body
    )
    assert response.status_code == 422


async def test_an_oversized_request_is_a_413_problem(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    response = await client.post(
        f"/api/chat/direct/{bob.id}/messages",
        headers={**alice.headers, "content-type": "application/json"},
        content=b'{"message": "' + b"x" * 70_000 + b'"}',
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_pages_are_newest_first_and_stable_while_new_messages_arrive(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    for n in range(7):
        await send(client, alice, f"direct/{bob.id}", f"m{n}")
    url = f"/api/chat/direct/{alice.id}/messages"
    first = (await client.get(url, headers=bob.headers, params={"limit": 3})).json()
    assert [m["message"] for m in first["items"]] == ["m6", "m5", "m4"]
    await send(client, alice, f"direct/{bob.id}", "late")  # arrives between two page requests
    second = (
        await client.get(
            url, headers=bob.headers, params={"limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [m["message"] for m in second["items"]] == ["m3", "m2", "m1"]
    third = (
        await client.get(
            url, headers=bob.headers, params={"limit": 3, "cursor": second["next_cursor"]}
        )
    ).json()
    assert [m["message"] for m in third["items"]] == ["m0"]
    assert third["next_cursor"] is None


async def test_a_tampered_cursor_is_a_400(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    for n in range(3):
        await send(client, alice, f"direct/{bob.id}", f"m{n}")
    url = f"/api/chat/direct/{bob.id}/messages"
    cursor = (await client.get(url, headers=alice.headers, params={"limit": 1})).json()[
        "next_cursor"
    ]
    forged = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    for bad in (forged, "not-a-cursor", cursor[:-3]):
        response = await client.get(url, headers=alice.headers, params={"cursor": bad})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


async def test_only_the_sender_edits_or_deletes_and_deletion_keeps_the_place(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    message = (await send(client, alice, f"direct/{bob.id}", "typo")).json()
    url = f"/api/chat/messages/{message['id']}"
    assert (
        await client.patch(url, headers=bob.headers, json={"message": "mine"})
    ).status_code == 403
    edited = await client.patch(url, headers=alice.headers, json={"message": "fixed"})
    assert edited.json()["message"] == "fixed"
    assert edited.json()["edited_at"] is not None
    assert (await client.delete(url, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    page = (await client.get(f"/api/chat/direct/{alice.id}/messages", headers=bob.headers)).json()
    assert page["items"][0]["deleted"] is True
    assert page["items"][0]["message"] == ""
    assert (
        await client.patch(url, headers=alice.headers, json={"message": "again"})
    ).status_code == 404
    assert (
        await client.delete("/api/chat/messages/not-an-id", headers=alice.headers)
    ).status_code == 404


async def test_course_rooms_are_for_learners_and_teachers_only(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser
) -> None:
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    room = f"rooms/{course['id']}"
    assert (await send(client, alice, room, "Hello class")).status_code == 201
    assert (await send(client, teacher, room, "Welcome")).status_code == 201
    assert (await send(client, bob, room, "Let me in")).status_code == 403
    assert (await client.get(f"/api/chat/{room}/messages", headers=bob.headers)).status_code == 403
    page = (await client.get(f"/api/chat/{room}/messages", headers=alice.headers)).json()
    assert [m["message"] for m in page["items"]] == ["Welcome", "Hello class"]
    draft = await make_course(client, teacher, published=False)
    assert (await send(client, alice, f"rooms/{draft['id']}")).status_code == 404


async def test_unread_counts_per_conversation(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    alice: TestUser,
    bob: TestUser,
    classroom: dict[str, object],
) -> None:
    carol = await logged_in(app, client)
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    await enroll(client, carol, course["id"])
    for n in range(3):
        await send(client, bob, f"direct/{alice.id}", f"b{n}")
    await send(client, carol, f"direct/{alice.id}", "c0")
    await send(client, teacher, f"rooms/{course['id']}", "homework")
    await send(client, alice, f"rooms/{course['id']}", "mine do not count")

    async def unread() -> dict[str, int]:
        body = (await client.get("/api/chat/conversations", headers=alice.headers)).json()
        return {c["peer_id"] or c["course_id"]: c["unread"] for c in body["conversations"]}

    shared = classroom["id"]
    assert await unread() == {str(bob.id): 3, str(carol.id): 1, course["id"]: 1, shared: 0}
    await client.post(f"/api/chat/direct/{bob.id}/read", headers=alice.headers)
    await client.post(f"/api/chat/rooms/{course['id']}/read", headers=alice.headers)
    assert await unread() == {str(bob.id): 0, str(carol.id): 1, course["id"]: 0, shared: 0}


async def test_a_direct_message_notifies_the_receiver(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    await send(client, alice, f"direct/{bob.id}", "ping")
    inbox = (await client.get("/api/me/notifications", headers=bob.headers)).json()
    assert inbox["items"][0]["type"] == "direct_message"
    assert inbox["items"][0]["message"] == "ping"


async def test_concurrent_sends_are_all_kept(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    await asyncio.gather(*(send(client, alice, f"direct/{bob.id}", f"c{n}") for n in range(15)))
    page = (
        await client.get(
            f"/api/chat/direct/{bob.id}/messages", headers=alice.headers, params={"limit": 100}
        )
    ).json()
    assert sorted(m["message"] for m in page["items"]) == sorted(f"c{n}" for n in range(15))


async def test_erasure_removes_a_users_messages_and_conversations(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    await send(client, alice, f"direct/{bob.id}", "from alice")
    await send(client, bob, f"direct/{alice.id}", "from bob")
    assert (await client.delete(f"/api/users/{alice.id}", headers=alice.headers)).status_code == 204
    mongo = app.state.mongo_db

    async def gone() -> bool:
        return bool(
            await mongo.chat_messages.count_documents({}) == 0
            and await mongo.chat_conversations.count_documents({}) == 0
        )

    assert await eventually(gone)


async def test_strangers_cannot_message_and_cannot_tell_a_user_from_nobody(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    stranger = await logged_in(app, client)
    to_user = await send(client, stranger, f"direct/{alice.id}")
    to_nobody = await send(client, stranger, f"direct/{uuid.uuid4()}")
    assert to_user.status_code == to_nobody.status_code == 404
    assert to_user.json()["detail"].split()[:2] == to_nobody.json()["detail"].split()[:2]
    assert await app.state.mongo_db.chat_messages.count_documents({}) == 0


async def test_a_teacher_and_their_learner_may_message_each_other(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser
) -> None:
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    assert (await send(client, teacher, f"direct/{alice.id}")).status_code == 201
    assert (await send(client, alice, f"direct/{teacher.id}")).status_code == 201


async def test_a_conversation_goes_on_after_the_shared_course_is_left(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    assert (await send(client, alice, f"direct/{bob.id}", "hi")).status_code == 201
    mine = (await client.get("/api/me/enrollments", headers=bob.headers)).json()["items"]
    for enrollment in mine:
        await client.delete(f"/api/enrollments/{enrollment['id']}", headers=bob.headers)
    assert (await send(client, bob, f"direct/{alice.id}", "still here")).status_code == 201


async def test_a_block_stops_messages_both_ways_until_it_is_lifted(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    blocked = await client.post(
        "/api/me/blocks", headers=alice.headers, json={"user_id": str(bob.id)}
    )
    assert blocked.status_code == 201
    again = await client.post(
        "/api/me/blocks", headers=alice.headers, json={"user_id": str(bob.id)}
    )
    assert again.status_code == 201
    assert again.json()["created_at"] == blocked.json()["created_at"]
    assert (await send(client, bob, f"direct/{alice.id}")).status_code == 404
    assert (await send(client, alice, f"direct/{bob.id}")).status_code == 404
    listed = (await client.get("/api/me/blocks", headers=alice.headers)).json()
    assert [b["user_id"] for b in listed["items"]] == [str(bob.id)]
    assert listed["total"] == 1
    lifted = await client.delete(f"/api/me/blocks/{bob.id}", headers=alice.headers)
    assert lifted.status_code == 204
    assert (await send(client, bob, f"direct/{alice.id}")).status_code == 201
    assert (
        await client.delete(f"/api/me/blocks/{bob.id}", headers=alice.headers)
    ).status_code == 404


async def test_blocking_yourself_or_nobody_is_refused(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    me = await client.post("/api/me/blocks", headers=alice.headers, json={"user_id": str(alice.id)})
    nobody = await client.post(
        "/api/me/blocks", headers=alice.headers, json={"user_id": str(uuid.uuid4())}
    )
    assert me.status_code == 422
    assert nobody.status_code == 404


async def test_someone_elses_message_is_a_404_to_a_stranger_and_a_403_to_its_receiver(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    stranger = await logged_in(app, client)
    message = (await send(client, alice, f"direct/{bob.id}", "private")).json()
    url = f"/api/chat/messages/{message['id']}"
    assert (await client.delete(url, headers=stranger.headers)).status_code == 404
    assert (
        await client.patch(url, headers=stranger.headers, json={"message": "x"})
    ).status_code == 404
    assert (await client.delete(url, headers=bob.headers)).status_code == 403


async def test_direct_messages_are_rate_limited_per_sender_and_per_recipient(
    migrated: object,
) -> None:
    from oneenglish.app import create_app
    from oneenglish.settings import Settings
    from tests.conftest import reset_databases

    assert isinstance(migrated, Settings)
    strict = migrated.model_copy(
        update={"messages_per_sender_per_minute": 3, "messages_per_recipient_per_minute": 4}
    )
    application = create_app(strict)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            host = await logged_in(application, client, roles=("teacher",))
            course = await make_course(client, host)
            victim, *senders = [await logged_in(application, client) for _ in range(3)]
            for user in (victim, *senders):
                await enroll(client, user, course["id"])
            first = [
                (await send(client, senders[0], f"direct/{victim.id}")).status_code
                for _ in range(4)
            ]
            second = [
                (await send(client, senders[1], f"direct/{victim.id}")).status_code
                for _ in range(2)
            ]
            notifications = await application.state.mongo_db.notifications.count_documents(
                {"userId": str(victim.id), "type": "direct_message"}
            )
        await reset_databases(application)
    assert first == [201, 201, 201, 429]  # the sender's limit
    assert second == [201, 429]  # the recipient's limit (4 in the minute)
    assert notifications == 4
