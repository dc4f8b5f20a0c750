"""Personal profile fields are encrypted in MongoDB with one data key per user
(db/encryption.py), on the real FerretDB: ciphertext at rest, clear text to those allowed,
noise for everyone once the user is erased, readable after a master-key rotation."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import bson
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from oneenglish.app import create_app
from oneenglish.db import encryption
from oneenglish.settings import Settings
from tests.factories import TestUser, logged_in
from tests.helpers import pg_scalar
from tests.processes import run_cli

PERSONAL = {
    "bio": "I grew up in Valencia and work as a nurse",
    "address": "Calle de la Paz 12, 3B",
    "city": "Valencia",
    "phone": "+34 611 222 333",
    "date_of_birth": "1990-04-17",
    "social_links": {"mastodon": "https://mastodon.example/@ana"},
}
STORED = {"bio", "address", "city", "phone", "dateOfBirth", "socialLinks"}


async def fill_profile(client: httpx.AsyncClient, user: TestUser) -> dict[str, Any]:
    response = await client.patch("/api/me/profile", headers=user.headers, json=PERSONAL)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fresh_cipher(app: FastAPI, settings: Settings) -> encryption.FieldCipher:
    """A cipher with an empty key cache, like another process or a restore from backup."""
    return encryption.open_cipher(
        app.state.mongo_client,
        settings.key_vault_namespace,
        settings.field_master_key,
        cache_seconds=0.001,
    )


async def test_the_stored_document_holds_ciphertext_and_the_owner_reads_clear_text(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    body = await fill_profile(client, alice)
    assert {k: body[k] for k in PERSONAL} == PERSONAL
    raw = await app.state.mongo_db.user_profiles.find_one({"_id": str(alice.id)})
    assert all(encryption.is_encrypted(raw[field]) for field in STORED)
    encoded = bson.encode(raw)
    for clear in ("Valencia", "nurse", "611 222", "1990-04-17", "mastodon"):
        assert clear.encode() not in encoded
    again = await client.get("/api/me/profile", headers=alice.headers)
    assert {k: again.json()[k] for k in PERSONAL} == PERSONAL


async def test_staff_read_clear_text_and_strangers_nothing(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    await fill_profile(client, alice)
    admin = await logged_in(app, client, roles=("admin",))
    stranger = await logged_in(app, client)
    path = f"/api/users/{alice.id}/profile"
    assert (await client.get(path, headers=admin.headers)).json()["city"] == "Valencia"
    assert (await client.get(path, headers=stranger.headers)).status_code == 404


async def test_the_export_decrypts_and_the_audit_log_never_holds_the_values(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser
) -> None:
    await fill_profile(client, alice)
    export = (await client.get(f"/api/users/{alice.id}/export", headers=alice.headers)).json()
    (profile,) = export["mongodb"]["user_profiles"]
    assert profile["city"] == "Valencia"
    assert profile["phone"] == PERSONAL["phone"]
    entries = [e async for e in app.state.mongo_db.audit_logs.find({"entityId": str(alice.id)})]
    encoded = b"".join(bson.encode(e) for e in entries)
    assert b"profile.updated" in encoded
    assert b"Valencia" not in encoded
    assert b"611 222" not in encoded


async def test_each_user_has_a_data_key_of_their_own(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, migrated: Settings
) -> None:
    await fill_profile(client, alice)
    await fill_profile(client, bob)
    vault = fresh_cipher(app, migrated)
    try:
        for user in (alice, bob):
            assert await vault.has_key(str(user.id))
        raw = [
            await app.state.mongo_db.user_profiles.find_one({"_id": str(u.id)})
            for u in (alice, bob)
        ]
        # The key id travels in the ciphertext (bytes 1–16 of subtype 6).
        assert raw[0]["city"][1:17] != raw[1]["city"][1:17]
    finally:
        await vault.close()


async def test_erasure_makes_a_saved_copy_undecryptable(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, migrated: Settings
) -> None:
    """A backup taken before the erasure: the data key goes first, and the copy is noise."""
    await fill_profile(client, alice)
    backup = await app.state.mongo_db.user_profiles.find_one({"_id": str(alice.id)})
    erased = await client.delete(f"/api/users/{alice.id}", headers=alice.headers)
    assert erased.status_code == 204
    cipher = fresh_cipher(app, migrated)
    try:
        assert not await cipher.has_key(str(alice.id))
        with pytest.raises(encryption.KeyUnavailable):
            await cipher.decrypt(backup["city"])
    finally:
        await cipher.close()
    steps = await pg_scalar(
        app, "SELECT steps FROM sagas WHERE kind = 'erase_user' AND subject_id = :u", u=alice.id
    )
    assert steps["data_key"]["done"]


async def test_a_profile_whose_key_is_gone_reads_as_erased_not_as_a_500(
    app: FastAPI, client: httpx.AsyncClient, alice: TestUser, migrated: Settings
) -> None:
    await fill_profile(client, alice)
    cipher = fresh_cipher(app, migrated)
    try:
        await cipher.destroy_key(str(alice.id))
    finally:
        await cipher.close()
    admin = await logged_in(app, client, roles=("admin",))
    # The API process may still hold the key in memory for the cache's lifetime; a process
    # without it (a restart, another worker) answers as this one does once it expires.
    stale = fresh_cipher(app, migrated)
    try:
        encryption.bind(app.state.mongo_db, stale)
        response = await client.get(f"/api/users/{alice.id}/profile", headers=admin.headers)
    finally:
        encryption.bind(app.state.mongo_db, app.state.field_cipher)
        await stale.close()
    assert response.status_code == 404
    assert "erased" in response.json()["detail"]


@pytest.fixture
async def rotation_vault(app: FastAPI, migrated: Settings) -> AsyncIterator[Settings]:
    """A key vault of its own, so that rotating it leaves the other tests' keys alone."""
    database = f"{migrated.mongodb_database}_rotation"
    await app.state.mongo_client.drop_database(database)
    yield migrated.model_copy(update={"field_encryption_key_vault": f"{database}.datakeys"})
    await app.state.mongo_client.drop_database(database)


async def test_rotation_rewraps_every_key_and_keeps_every_value_readable(
    app: FastAPI, rotation_vault: Settings
) -> None:
    old_key, new_key = os.urandom(96), os.urandom(96)
    namespace = rotation_vault.key_vault_namespace
    client = app.state.mongo_client
    old = encryption.open_cipher(client, namespace, old_key, cache_seconds=0.001)
    users = [str(uuid.uuid4()) for _ in range(5)]
    values = {u: await old.encrypt(u, f"city of {u}") for u in users}
    await old.close()

    process = run_cli(
        rotation_vault,
        "keys",
        "rotate",
        "--batch-size",
        "2",
        field_encryption_key_vault=namespace,
        field_encryption_master_key=base64.b64encode(new_key).decode(),
        field_encryption_old_master_key=base64.b64encode(old_key).decode(),
    )
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output.decode()
    assert b"5 data keys re-wrapped" in output

    new = encryption.open_cipher(client, namespace, new_key, cache_seconds=0.001)
    try:
        await new.verify()
        for user, value in values.items():
            assert await new.decrypt(value) == f"city of {user}"
    finally:
        await new.close()
    # The old master key alone opens nothing any more, and is refused at start-up.
    stale = encryption.open_cipher(client, namespace, old_key, cache_seconds=0.001)
    try:
        with pytest.raises(encryption.MasterKeyMismatch, match="FIELD_ENCRYPTION_MASTER_KEY"):
            await stale.verify()
        with pytest.raises(encryption.KeyUnavailable):
            await stale.decrypt(next(iter(values.values())))
    finally:
        await stale.close()


async def test_a_wrong_master_key_fails_readiness_with_one_line_naming_it(
    app: FastAPI, migrated: Settings
) -> None:
    await encryption.for_database(app.state.mongo_db).encrypt(str(uuid.uuid4()), "a city")
    wrong = migrated.model_copy(
        update={"field_encryption_master_key": SecretStr(base64.b64encode(os.urandom(96)).decode())}
    )
    application = create_app(wrong)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["field_encryption"]
    error = body["checks"]["field_encryption"]["error"]
    assert "FIELD_ENCRYPTION_MASTER_KEY" in error
    assert "\n" not in error
