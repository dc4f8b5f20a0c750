"""Email verification, password reset and email change, through the real local SMTP server
(Mailpit): the mail arrives with the right link, and each link does its one thing once."""

from __future__ import annotations

import io
import logging
import uuid

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.factories import TestUser, logged_in, make_user
from tests.helpers import eventually, pg_execute, pg_scalar
from tests.mailbox import Mailbox

NEW_PASSWORD = "An0ther-long-passphrase!"


@pytest.fixture
def mailbox(app: FastAPI) -> Mailbox:
    return Mailbox(app.state.settings)


def fake_token() -> str:
    return "A" * 43


async def verified_at(app: FastAPI, user: TestUser) -> object:
    return await pg_scalar(app, "SELECT email_verified_at FROM users WHERE id = :id", id=user.id)


async def test_registration_mails_a_link_that_verifies_the_address(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    username = f"ver_{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/api/auth/register",
        json={"email": f"{username}@example.com", "username": username, "password": NEW_PASSWORD},
    )
    assert response.status_code == 201, response.text
    assert response.json()["email_verified_at"] is None
    [mail] = await mailbox.wait_for(f"{username}@example.com", "Confirm your email")
    assert "/account/verify-email#token=" in mail.text
    assert mail.header("Message-ID") == f"<{mail.message_id}>"

    verified = await client.post("/api/auth/verify-email", json={"token": mail.token})

    assert verified.status_code == 204, verified.text
    login = await client.post(
        "/api/auth/login", json={"email": f"{username}@example.com", "password": NEW_PASSWORD}
    )
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["email_verified_at"] is not None


async def test_a_verification_link_works_once(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await make_user(app)
    [mail] = await mailbox.wait_for(user.email, "Confirm your email")
    assert (
        await client.post("/api/auth/verify-email", json={"token": mail.token})
    ).status_code == 204

    again = await client.post("/api/auth/verify-email", json={"token": mail.token})

    assert again.status_code == 400
    assert again.json()["type"].endswith("/invalid-link")


@pytest.mark.parametrize("token", ["A" * 43, "not a token", "A" * 44, ""])
async def test_a_tampered_or_malformed_token_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, token: str
) -> None:
    user = await make_user(app)

    response = await client.post("/api/auth/verify-email", json={"token": token})

    assert response.status_code in (400, 422)
    assert await verified_at(app, user) is None


async def test_a_resent_link_replaces_the_first(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await logged_in(app, client)
    [first] = await mailbox.wait_for(user.email, "Confirm your email")

    resent = await client.post("/api/auth/verify-email/resend", headers=user.headers)
    assert resent.status_code == 202
    mails = await mailbox.wait_for(user.email, "Confirm your email", count=2)

    assert (
        await client.post("/api/auth/verify-email", json={"token": first.token})
    ).status_code == 400
    assert (
        await client.post("/api/auth/verify-email", json={"token": mails[-1].token})
    ).status_code == 204
    again = await client.post("/api/auth/verify-email/resend", headers=user.headers)
    assert again.status_code == 409


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await logged_in(app, client)

    asked = await client.post("/api/auth/password-reset", json={"email": user.email.upper()})

    assert asked.status_code == 202
    [mail] = await mailbox.wait_for(user.email, "Reset your")
    assert "/account/reset-password#token=" in mail.text
    reset = await client.post(
        "/api/auth/password-reset/confirm", json={"token": mail.token, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 401
    old = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    reused = await client.post(
        "/api/auth/password-reset/confirm",
        json={"token": mail.token, "new_password": "Z" + NEW_PASSWORD},
    )
    assert reused.status_code == 400
    [notice] = await mailbox.wait_for(user.email, "password was changed")
    assert "signed out" in notice.text


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    known = await make_user(app)
    unknown = f"nobody_{uuid.uuid4().hex[:8]}@example.com"

    for_known = await client.post("/api/auth/password-reset", json={"email": known.email})
    for_unknown = await client.post("/api/auth/password-reset", json={"email": unknown})

    assert for_known.status_code == for_unknown.status_code == 202
    assert for_known.json() == for_unknown.json()
    await mailbox.wait_for(known.email, "Reset your")
    assert await eventually(lambda: _no_unfinished(app, "request_password_reset"), attempts=100)
    assert await mailbox.to(unknown) == []
    # The address typed is not kept once the request is handled.
    leftover = await pg_scalar(
        app, "SELECT count(*) FROM sagas WHERE payload::text LIKE :a", a=f"%{unknown}%"
    )
    assert leftover == 0


async def _no_unfinished(app: FastAPI, kind: str) -> bool:
    count = await pg_scalar(
        app,
        "SELECT count(*) FROM sagas WHERE kind = :k AND status IN ('pending', 'compensating')",
        k=kind,
    )
    return bool(count == 0)


async def test_a_newer_reset_link_or_a_password_change_ends_the_older_link(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await logged_in(app, client)
    await client.post("/api/auth/password-reset", json={"email": user.email})
    [first] = await mailbox.wait_for(user.email, "Reset your")
    await client.post("/api/auth/password-reset", json={"email": user.email})
    mails = await mailbox.wait_for(user.email, "Reset your", count=2)
    second = mails[-1]

    stale = await client.post(
        "/api/auth/password-reset/confirm",
        json={"token": first.token, "new_password": NEW_PASSWORD},
    )
    assert stale.status_code == 400
    changed = await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    after_change = await client.post(
        "/api/auth/password-reset/confirm",
        json={"token": second.token, "new_password": "Y" + NEW_PASSWORD},
    )
    assert after_change.status_code == 400


async def test_an_expired_reset_link_is_refused(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await make_user(app)
    await client.post("/api/auth/password-reset", json={"email": user.email})
    [mail] = await mailbox.wait_for(user.email, "Reset your")
    await pg_execute(
        app,
        "UPDATE account_tokens SET expires_at = now() - interval '1 second' "
        "WHERE user_id = :u AND purpose = 'password_reset'",
        u=user.id,
    )

    response = await client.post(
        "/api/auth/password-reset/confirm", json={"token": mail.token, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "expired" in response.json()["detail"]
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert login.status_code == 200


async def test_a_reset_with_a_weak_password_changes_nothing_and_keeps_the_link(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await make_user(app)
    await client.post("/api/auth/password-reset", json={"email": user.email})
    [mail] = await mailbox.wait_for(user.email, "Reset your")

    weak = await client.post(
        "/api/auth/password-reset/confirm", json={"token": mail.token, "new_password": "short"}
    )

    assert weak.status_code == 422
    good = await client.post(
        "/api/auth/password-reset/confirm", json={"token": mail.token, "new_password": NEW_PASSWORD}
    )
    assert good.status_code == 204


async def test_reset_requests_are_throttled_per_address(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    address = f"someone_{uuid.uuid4().hex[:8]}@example.com"
    limit = app.state.settings.account_mails_per_address_per_hour
    statuses = [
        (await client.post("/api/auth/password-reset", json={"email": address})).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [202] * limit
    assert statuses[-1] == 429


async def test_an_email_change_is_confirmed_from_the_new_address_and_undone_from_the_old(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await logged_in(app, client)
    new_address = f"new_{uuid.uuid4().hex[:8]}@example.com"

    asked = await client.post(
        "/api/me/email",
        headers=user.headers,
        json={"new_email": new_address, "current_password": user.password},
    )

    assert asked.status_code == 202, asked.text
    me = (await client.get("/api/auth/me", headers=user.headers)).json()
    assert me["email"] == user.email  # unchanged until confirmed
    [confirm] = await mailbox.wait_for(new_address, "Confirm your new email")
    confirmed = await client.post("/api/auth/email-change/confirm", json={"token": confirm.token})
    assert confirmed.status_code == 204, confirmed.text
    me = (await client.get("/api/auth/me", headers=user.headers)).json()
    assert me["email"] == new_address
    assert me["email_verified_at"] is not None
    [notice] = await mailbox.wait_for(user.email, "was changed")
    assert new_address in notice.text

    undone = await client.post("/api/auth/email-change/undo", json={"token": notice.token})

    assert undone.status_code == 204, undone.text
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 401
    back = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert back.status_code == 200
    again = await client.post("/api/auth/email-change/undo", json={"token": notice.token})
    assert again.status_code == 400


async def test_an_email_change_needs_the_password_and_a_free_address(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await logged_in(app, client)
    other = await make_user(app)

    wrong = await client.post(
        "/api/me/email",
        headers=user.headers,
        json={"new_email": f"x_{uuid.uuid4().hex[:6]}@example.com", "current_password": "nope"},
    )
    taken = await client.post(
        "/api/me/email",
        headers=user.headers,
        json={"new_email": other.email, "current_password": user.password},
    )
    bad = await client.post(
        "/api/me/email",
        headers=user.headers,
        json={"new_email": "not-an-address", "current_password": user.password},
    )

    assert wrong.status_code == 422
    assert taken.status_code == 409
    assert bad.status_code == 422


async def test_a_token_for_one_purpose_does_nothing_for_another(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await make_user(app)
    [mail] = await mailbox.wait_for(user.email, "Confirm your email")

    used_as_reset = await client.post(
        "/api/auth/password-reset/confirm", json={"token": mail.token, "new_password": NEW_PASSWORD}
    )
    used_as_change = await client.post("/api/auth/email-change/confirm", json={"token": mail.token})

    assert used_as_reset.status_code == used_as_change.status_code == 400
    assert (
        await client.post("/api/auth/verify-email", json={"token": mail.token})
    ).status_code == 204


async def test_a_name_with_line_breaks_cannot_add_mail_headers(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user = await logged_in(app, client)
    patched = await client.patch(
        f"/api/users/{user.id}",
        headers=user.headers,
        json={"display_name": "Eve\r\nBcc: victim@example.com"},
    )
    assert patched.status_code == 200  # names may hold any text; a header never does
    await client.post("/api/auth/password-reset", json={"email": user.email})

    [mail] = await mailbox.wait_for(user.email, "Reset your")

    assert mail.header("Bcc") is None
    assert mail.to == [user.email]  # the name stays a quoted name on one line
    assert "\r" not in (mail.header("To") or "")
    assert "\n" not in (mail.header("To") or "")


async def test_no_link_token_reaches_a_log_the_activity_the_error_log_or_the_audit_log(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    root = logging.getLogger()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        user = await logged_in(app, client)
        [verify] = await mailbox.wait_for(user.email, "Confirm your email")
        await client.post("/api/auth/verify-email", json={"token": verify.token})
        await client.post("/api/auth/verify-email", json={"token": verify.token})  # refused
        await client.post("/api/auth/password-reset", json={"email": user.email})
        [reset] = await mailbox.wait_for(user.email, "Reset your")
        await client.post(
            "/api/auth/password-reset/confirm",
            json={"token": reset.token, "new_password": NEW_PASSWORD},
        )
        await app.state.activity_log.flush()
        await app.state.error_log.flush()
        await eventually(lambda: _no_unfinished(app, "deliver_audit"), attempts=100)
    finally:
        root.removeHandler(handler)
    mongo = app.state.mongo_db
    stored = [
        orjson.dumps(d, default=str).decode()
        for name in ("user_activities", "error_logs", "audit_logs")
        async for d in mongo[name].find({})
    ]
    assert any("user.password_changed" in text_ for text_ in stored)  # the audit is there
    saga_payloads = await pg_scalar(app, "SELECT string_agg(payload::text, ' ') FROM sagas")
    for token in (verify.token, reset.token):
        assert token not in captured.getvalue()
        assert all(token not in text_ for text_ in stored)
        assert token not in (saga_payloads or "")
