"""The SMTP server down: requests that send mail still succeed, and the mail arrives, once,
when the server is back (the relay retries with backoff)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI

from oneenglish.stack.manager import Stack
from tests.helpers import pg_scalar
from tests.mailbox import Mailbox

PASSWORD = "A-long-enough-passphrase!"


async def test_a_registration_while_the_mail_server_is_down_gets_its_mail_once_it_is_back(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    mailbox = Mailbox(fault_app.state.settings)
    username = f"outage_{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    fault_stack.mailpit.kill()
    try:
        response = await fault_client.post(
            "/api/auth/register",
            json={"email": address, "username": username, "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
        # The relay tried and failed: the mail waits in the outbox with its error.
        for _ in range(100):
            failed = await pg_scalar(
                fault_app,
                "SELECT count(*) FROM sagas WHERE kind = 'deliver_mail' AND attempts > 0 "
                "AND status = 'pending'",
            )
            if failed:
                break
            await asyncio.sleep(0.1)
        assert failed == 1
    finally:
        fault_stack.up()

    mails = await mailbox.wait_for(address, "Confirm your email", timeout=30)
    assert len(mails) == 1
    await asyncio.sleep(1.0)
    assert len(await mailbox.to(address)) == 1  # once
    pending = await pg_scalar(
        fault_app,
        "SELECT count(*) FROM sagas WHERE kind = 'deliver_mail' AND status = 'pending'",
    )
    assert pending == 0


async def test_a_mail_still_waiting_when_its_user_is_erased_is_never_sent(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    from tests.factories import logged_in

    mailbox = Mailbox(fault_app.state.settings)
    admin = await logged_in(fault_app, fault_client, roles=("admin",))
    username = f"gone_{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    fault_stack.mailpit.kill()
    try:
        created = await fault_client.post(
            "/api/auth/register",
            json={"email": address, "username": username, "password": PASSWORD},
        )
        assert created.status_code == 201
        erased = await fault_client.delete(
            f"/api/users/{created.json()['id']}", headers=admin.headers
        )
        assert erased.status_code in (200, 202, 204), erased.text
    finally:
        fault_stack.up()

    # Absence can only be waited for: two relay passes (every 2 s) with the server back.
    await asyncio.sleep(4.0)
    assert await mailbox.to(address) == []
    kept = await pg_scalar(
        fault_app, "SELECT count(*) FROM sagas WHERE payload::text LIKE :a", a=f"%{username}%"
    )
    assert kept == 0
