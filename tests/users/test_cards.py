"""Public cards: the name, avatar and role badge people see of each other, wherever they meet;
never an email; a stranger's card is a 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import TestUser, enroll, make_course


async def rename(client: httpx.AsyncClient, user: TestUser, **patch: object) -> httpx.Response:
    return await client.patch(f"/api/users/{user.id}", headers=user.headers, json=patch)


async def card(client: httpx.AsyncClient, viewer: TestUser, user: TestUser) -> httpx.Response:
    return await client.get(f"/api/users/{user.id}/card", headers=viewer.headers)


def no_email(response: httpx.Response, *users: TestUser) -> None:
    for user in users:
        assert user.email not in response.text


async def test_the_default_name_is_first_name_and_last_initial_else_the_username(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    assert (await card(client, alice, alice)).json()["display_name"] == alice.username
    await rename(client, alice, first_name="Alice", last_name="Walker")
    mine = (await card(client, alice, alice)).json()
    assert mine == {
        "id": str(alice.id),
        "display_name": "Alice W.",
        "avatar_url": None,
        "badge": "learner",
    }


async def test_a_chosen_name_and_avatar_are_shown_and_can_be_reset(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    url = "https://media.example.com/alice.png"
    response = await rename(client, alice, display_name="  Ali  ", avatar_url=url)
    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["avatar_url"]) == ("Ali", url)
    assert (await card(client, alice, alice)).json()["display_name"] == "Ali"
    await rename(client, alice, display_name="", clear_avatar=True)
    reset = (await card(client, alice, alice)).json()
    assert (reset["display_name"], reset["avatar_url"]) == (alice.username, None)


@pytest.mark.parametrize(
    "patch",
    [
        {"display_name": "x" * 61},
        {"avatar_url": "http://media.example.com/a.png"},
        {"avatar_url": "javascript:alert(1)"},
        {"avatar_url": "https://example.com/" + "a" * 500},
    ],
)
async def test_bad_names_and_avatars_are_a_422(
    client: httpx.AsyncClient, alice: TestUser, patch: dict[str, object]
) -> None:
    assert (await rename(client, alice, **patch)).status_code == 422


async def test_classmates_and_teachers_see_cards_strangers_get_a_404(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    await enroll(client, bob, course["id"])
    classmate = await card(client, alice, bob)
    assert classmate.status_code == 200
    no_email(classmate, bob)
    assert (await card(client, alice, teacher)).json()["badge"] == "teacher"
    assert (await card(client, teacher, alice)).status_code == 200
    assert (await card(client, learner, alice)).status_code == 404  # a stranger
    unknown = await client.get(
        "/api/users/00000000-0000-4000-8000-000000000000/card", headers=alice.headers
    )
    assert unknown.status_code == 404


async def test_a_course_shows_its_teachers_card(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    await rename(client, teacher, first_name="Emma", last_name="Collins")
    course = await make_course(client, teacher)
    read = await client.get(f"/api/courses/{course['id']}", headers=learner.headers)
    listed = await client.get("/api/courses", headers=learner.headers)
    expected = {
        "id": str(teacher.id),
        "display_name": "Emma C.",
        "avatar_url": None,
        "badge": "teacher",
    }
    assert read.json()["teacher"] == expected
    assert listed.json()["items"][0]["teacher"] == expected
    no_email(read, teacher)


async def test_the_roster_names_its_learners(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser
) -> None:
    await rename(client, alice, display_name="Alice from Leeds")
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    roster = await client.get(f"/api/courses/{course['id']}/enrollments", headers=teacher.headers)
    assert [e["learner"]["display_name"] for e in roster.json()["items"]] == ["Alice from Leeds"]
    no_email(roster, alice)


async def test_conversations_and_messages_name_the_people_in_them(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser
) -> None:
    await rename(client, bob, display_name="Bob")
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    await enroll(client, bob, course["id"])
    sent = await client.post(
        f"/api/chat/direct/{alice.id}/messages", headers=bob.headers, json={"message": "Hi!"}
    )
    assert sent.status_code == 201, sent.text
    await client.post(
        f"/api/chat/rooms/{course['id']}/messages",
        headers=bob.headers,
        json={"message": "Hello all"},
    )
    direct = await client.get(f"/api/chat/direct/{bob.id}/messages", headers=alice.headers)
    room = await client.get(f"/api/chat/rooms/{course['id']}/messages", headers=alice.headers)
    conversations = await client.get("/api/chat/conversations", headers=alice.headers)
    assert direct.json()["items"][0]["sender"]["display_name"] == "Bob"
    assert room.json()["items"][0]["sender"]["display_name"] == "Bob"
    peers: list[Any] = [c["peer"] for c in conversations.json()["conversations"] if c["peer_id"]]
    assert [p["display_name"] for p in peers] == ["Bob"]
    for response in (direct, room, conversations):
        no_email(response, bob, alice)
