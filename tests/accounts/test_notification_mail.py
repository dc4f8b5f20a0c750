"""Notification preferences, notifications mailed at once, one-click unsubscribe, and digests,
through the real local SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.jobs.digests import due_period, send_digests
from tests.factories import TestUser, enroll, logged_in, make_course
from tests.helpers import pg_scalar
from tests.mailbox import Mailbox


@pytest.fixture
def mailbox(app: FastAPI) -> Mailbox:
    return Mailbox(app.state.settings)


async def set_preferences(
    client: httpx.AsyncClient, user: TestUser, preferences: dict[str, str]
) -> httpx.Response:
    return await client.patch(
        "/api/me/notification-preferences", headers=user.headers, json={"preferences": preferences}
    )


async def share_a_conversation(
    app: FastAPI, client: httpx.AsyncClient, a: TestUser, b: TestUser
) -> None:
    """Direct messages are for people who meet: both learn in one course."""
    host = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, host)
    for learner in (a, b):
        await enroll(client, learner, course["id"])


async def direct_notifications(client: httpx.AsyncClient, user: TestUser) -> list[object]:
    inbox = await client.get("/api/me/notifications", headers=user.headers)
    return [n for n in inbox.json()["items"] if n["type"] == "direct_message"]


async def send_message(
    client: httpx.AsyncClient, sender: TestUser, to: TestUser, text: str
) -> httpx.Response:
    return await client.post(
        f"/api/chat/direct/{to.id}/messages", headers=sender.headers, json={"message": text}
    )


async def test_preferences_start_with_the_defaults_and_change_by_type(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await logged_in(app, client)

    first = await client.get("/api/me/notification-preferences", headers=user.headers)
    changed = await set_preferences(client, user, {"achievement_earned": "digest_weekly"})

    assert first.status_code == 200
    assert first.json()["preferences"]["direct_message"] == "email"
    assert first.json()["email_enabled"] is True
    assert changed.status_code == 200
    assert changed.json()["preferences"]["achievement_earned"] == "digest_weekly"
    assert changed.json()["preferences"]["direct_message"] == "email"
    again = await client.get("/api/me/notification-preferences", headers=user.headers)
    assert again.json() == changed.json()


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": {"direct_message": "pigeon"}},
        {"preferences": {"spam": "email"}},
        {"preferences": {}},
        {"preferences": {"direct_message": "email"}, "extra": 1},
        {},
    ],
)
async def test_bad_preferences_are_refused(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    user = await logged_in(app, client)

    response = await client.patch(
        "/api/me/notification-preferences", headers=user.headers, json=body
    )

    assert response.status_code == 422
    after = await client.get("/api/me/notification-preferences", headers=user.headers)
    assert after.json()["preferences"]["direct_message"] == "email"


async def test_a_direct_message_is_mailed_at_once_and_its_link_unsubscribes(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    await share_a_conversation(app, client, alice, bob)

    sent = await send_message(client, alice, bob, "Hello Bob, see you in class")

    assert sent.status_code == 201, sent.text
    [mail] = await mailbox.wait_for(bob.email, "New message from")
    assert "Hello Bob, see you in class" in mail.text
    unsubscribe = mail.header("List-Unsubscribe")
    assert unsubscribe is not None
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    url = httpx.URL(unsubscribe.strip("<>"))
    page = await client.get(url.path, params=url.params)
    assert page.status_code == 200, (url, page.text)
    assert '<form method="post">' in page.text
    # A mail client's RFC 8058 one-click POST: no login, a form body it ignores.
    done = await client.post(
        url.path,
        params=url.params,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"notification_types": ["direct_message"], "email": False}
    prefs = await client.get("/api/me/notification-preferences", headers=bob.headers)
    assert prefs.json()["preferences"]["direct_message"] == "in_app"
    await send_message(client, alice, bob, "A second message")
    assert len(await direct_notifications(client, bob)) == 2  # still in the inbox
    await asyncio.sleep(1.0)  # the relay would have sent a mail by now
    assert len(await mailbox.to(bob.email, "New message from")) == 1


async def test_a_tampered_unsubscribe_link_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/notification-preferences/unsubscribe", params={"token": "x" * 40}
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-link")


async def test_off_keeps_the_notification_out_of_the_inbox(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    await share_a_conversation(app, client, alice, bob)
    await set_preferences(client, bob, {"direct_message": "off"})

    await send_message(client, alice, bob, "Are you there?")

    assert await direct_notifications(client, bob) == []
    conversation = await client.get(f"/api/chat/direct/{alice.id}/messages", headers=bob.headers)
    assert len(conversation.json()["items"]) == 1  # the message itself is delivered
    await asyncio.sleep(1.0)
    assert await mailbox.to(bob.email, "New message from") == []


async def test_the_email_switch_keeps_every_mail_channel_in_the_inbox(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    await share_a_conversation(app, client, alice, bob)
    await client.patch(
        "/api/me/settings", headers=bob.headers, json={"settings": {"emailNotifications": False}}
    )

    await send_message(client, alice, bob, "Quiet please")

    prefs = await client.get("/api/me/notification-preferences", headers=bob.headers)
    assert prefs.json()["email_enabled"] is False
    await asyncio.sleep(1.0)
    assert await mailbox.to(bob.email, "New message from") == []


async def test_a_daily_digest_mails_what_is_unread_once_per_day(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    await share_a_conversation(app, client, alice, bob)
    await set_preferences(client, bob, {"direct_message": "digest_daily"})
    for text in ("First news", "Second news"):
        await send_message(client, alice, bob, text)
    settings = app.state.settings
    now = datetime.now(UTC) + timedelta(seconds=1)
    tomorrow = now + timedelta(days=1)

    first, repeat = (
        await send_digests(app.state.sessionmaker, app.state.mongo_db, settings, now),
        await send_digests(app.state.sessionmaker, app.state.mongo_db, settings, now),
    )

    assert first.mailed >= 1
    assert repeat.claimed == 0  # this period's digest is taken
    [digest] = await mailbox.wait_for(bob.email, "daily")
    assert "First news" in digest.text
    assert "Second news" in digest.text
    assert await mailbox.to(bob.email, "New message from") == []  # not mailed at once
    # The next day's digest covers only what came after this one: nothing new, no mail.
    await send_digests(app.state.sessionmaker, app.state.mongo_db, settings, tomorrow)
    period = due_period("daily", tomorrow, settings.digest_hour_utc).key
    counted = await pg_scalar(
        app,
        "SELECT notifications FROM mail_digests WHERE user_id = :u AND period = :p",
        u=bob.id,
        p=period,
    )
    assert counted == 0
    await asyncio.sleep(1.0)
    assert len(await mailbox.to(bob.email, "daily")) == 1


@pytest.mark.parametrize(
    ("frequency", "now", "expected"),
    [
        ("daily", "2026-12-02T06:59:00", "2026-12-01"),
        ("daily", "2026-12-02T07:00:00", "2026-12-02"),
        ("weekly", "2026-12-06T23:00:00", "2026-W49"),  # a Sunday: Monday's week
        ("weekly", "2026-11-30T06:00:00", "2026-W48"),  # Monday before the hour
        ("weekly", "2026-11-30T07:00:00", "2026-W49"),
    ],
)
def test_the_due_period_starts_at_the_digest_hour(frequency: str, now: str, expected: str) -> None:
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert due_period(frequency, at, hour=7).key == expected


async def test_a_user_without_a_verified_address_may_not_chat_when_settings_say_so(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from oneenglish.accounts import service as accounts
    from oneenglish.core.errors import Forbidden

    user = await logged_in(app, client)
    strict = app.state.settings.model_copy(update={"require_verified_email_for": ["chat"]})
    async with app.state.sessionmaker() as db:
        await accounts.ensure_verified(db, app.state.settings, uuid.UUID(str(user.id)), "chat")
        with pytest.raises(Forbidden):
            await accounts.ensure_verified(db, strict, uuid.UUID(str(user.id)), "chat")


async def test_two_processes_running_the_digest_pass_send_one_digest_per_user(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    from tests.processes import run_cli

    alice = await logged_in(app, client)
    readers = [await logged_in(app, client) for _ in range(3)]
    for reader in readers:
        await share_a_conversation(app, client, alice, reader)
        await set_preferences(client, reader, {"direct_message": "digest_weekly"})
        await send_message(client, alice, reader, f"News for {reader.username}")
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()

    passes = [run_cli(app.state.settings, "send-digests", "--at", at) for _ in range(2)]
    results = [await asyncio.to_thread(p.communicate, timeout=120) for p in passes]

    assert [p.returncode for p in passes] == [0, 0], results
    for reader in readers:
        mails = await mailbox.wait_for(reader.email, "weekly")
        await asyncio.sleep(0.5)
        assert len(await mailbox.to(reader.email, "weekly")) == len(mails) == 1
        assert f"News for {reader.username}" in mails[0].text
