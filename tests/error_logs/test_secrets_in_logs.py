"""A failing PostgreSQL write leaves no password, hash or email in the logs or the error log,
though the server's own message quotes the whole row."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.core.redaction import scrub
from tests.conftest import owner_engine

EMAIL = "leak.victim@example.com"
PASSWORD = "Leaky-Password-77"


@pytest.fixture
async def users_refuse_a_name(app: FastAPI) -> AsyncIterator[None]:
    """A CHECK the Python side does not know: PostgreSQL refuses the row and quotes all of it
    (`Failing row contains (…, $argon2id$…, …)`) in its message."""
    async with owner_engine(app.state.settings).begin() as conn:
        await conn.execute(
            text("ALTER TABLE users ADD CONSTRAINT probe_refused CHECK (username <> 'leaky_user')")
        )
    try:
        yield
    finally:
        async with owner_engine(app.state.settings).begin() as conn:
            await conn.execute(text("ALTER TABLE users DROP CONSTRAINT IF EXISTS probe_refused"))


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)


async def test_a_failed_write_logs_no_password_hash_or_email(
    client: httpx.AsyncClient, app: FastAPI, users_refuse_a_name: None, log_lines: io.StringIO
) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": EMAIL, "username": "leaky_user", "password": PASSWORD},
    )
    assert response.status_code == 500
    error_id = response.json()["error_id"]
    await app.state.error_log.flush()
    entry = await app.state.mongo_db.error_logs.find_one({"_id": error_id})
    assert entry is not None
    assert "probe_refused" in entry["message"]  # the cause is still there to debug
    stored = orjson.dumps(entry, default=str).decode()
    logged = log_lines.getvalue()
    assert "unhandled error" in logged
    for text_ in (stored, logged):
        assert "$argon2" not in text_
        assert EMAIL not in text_
        assert PASSWORD not in text_


def test_scrubbing_keeps_the_cause_and_drops_the_values() -> None:
    message = (
        'duplicate key value violates unique constraint "uq_users_email"\n'
        "DETAIL:  Key (lower(email::text))=(ann@example.com) already exists.\n"
        "DETAIL:  Failing row contains (1, ann, $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA).\n"
        "[parameters: ('ann@example.com', 'Secret-1')]\n"
        "password=Secret-1 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"
    )
    scrubbed = scrub(message)
    assert 'unique constraint "uq_users_email"' in scrubbed
    assert "Key (lower(email::text))=([redacted]) already exists." in scrubbed
    for secret in ("ann@example.com", "$argon2id", "Secret-1", "eyJhbGci"):
        assert secret not in scrubbed
