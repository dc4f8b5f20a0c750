from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.settings import Settings
from tests.factories import PASSWORD, TestUser, login, make_user


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_login_with_email_or_username_returns_a_token_pair(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    for identifier in ({"email": user.email.upper()}, {"username": user.username}):
        response = await client.post("/api/auth/login", json=identifier | {"password": PASSWORD})
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.access_token_ttl_seconds
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert {"sub", "exp", "iat", "jti", "sid"} <= claims.keys()
        assert claims["sub"] == str(user.id)


async def test_oauth2_token_form_accepts_username_or_email(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await make_user(app)
    for name in (user.username, user.email):
        response = await client.post(
            "/api/auth/token", data={"username": name, "password": PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["access_token"]


async def test_me_shows_roles_and_effective_permissions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await login(client, await make_user(app, roles=("admin",)))
    body = (await client.get("/api/auth/me", headers=admin.headers)).json()
    assert body["roles"] == ["admin"]
    assert "users:read" in body["permissions"]


async def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await make_user(app)
    wrong = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "Nope-123456"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": "Nope-123456"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "a@example.com", "username": "a", "password": PASSWORD},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": PASSWORD, "remember": True},
    ],
)
async def test_login_needs_exactly_one_identifier_and_a_password(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    assert (await client.post("/api/auth/login", json=body)).status_code == 422


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await login(client, await make_user(app))
    first_refresh = user.refresh_token

    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first_refresh})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first_refresh
    assert (
        await client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        )
    ).status_code == 200

    # An attacker replays the spent token: the session is revoked, for everyone holding it.
    replay = await client.post("/api/auth/refresh", json={"refresh_token": first_refresh})
    assert replay.status_code == 401
    assert "reuse" in replay.json()["detail"]
    descendant = await client.post(
        "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert descendant.status_code == 401
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 401


async def test_logout_ends_the_session_but_not_others(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await make_user(app)
    phone = await login(client, TestUser(user.id, user.email, user.username, PASSWORD))
    laptop = await login(client, TestUser(user.id, user.email, user.username, PASSWORD))

    assert (await client.post("/api/auth/logout", headers=phone.headers)).status_code == 204
    assert (await client.get("/api/auth/me", headers=phone.headers)).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert refreshed.status_code == 401
    assert (await client.get("/api/auth/me", headers=laptop.headers)).status_code == 200


async def test_logout_all_ends_every_session(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await make_user(app)
    one = await login(client, TestUser(user.id, user.email, user.username, PASSWORD))
    two = await login(client, TestUser(user.id, user.email, user.username, PASSWORD))
    assert (await client.post("/api/auth/logout-all", headers=one.headers)).status_code == 204
    for session in (one, two):
        assert (await client.get("/api/auth/me", headers=session.headers)).status_code == 401


async def test_changing_the_password_revokes_every_session(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await login(client, await make_user(app))
    other = await login(client, TestUser(user.id, user.email, user.username, PASSWORD))
    new_password = "Another-horse-77"

    response = await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 204
    for session in (user, other):
        assert (await client.get("/api/auth/me", headers=session.headers)).status_code == 401
        refreshed = await client.post(
            "/api/auth/refresh", json={"refresh_token": session.refresh_token}
        )
        assert refreshed.status_code == 401
    old = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"email": user.email, "password": new_password})
    assert new.status_code == 200


async def test_change_password_checks_the_current_one_and_the_policy(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await login(client, await make_user(app))
    wrong = await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": "Wrong-pass-99", "new_password": "Another-horse-77"},
    )
    assert wrong.status_code == 422
    weak = await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 200


# -- tokens that must be refused ------------------------------------------------------------


def forge(settings: Settings, user: TestUser, sid: str, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user.id),
        "sid": sid,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer,
        "typ": "access",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, settings.signing_key, algorithm="HS256")


@pytest.fixture
async def victim(client: httpx.AsyncClient, app: FastAPI) -> TestUser:
    return await login(client, await make_user(app, roles=("admin",)))


def sid_of(user: TestUser) -> str:
    return str(jwt.decode(user.access_token, options={"verify_signature": False})["sid"])


async def assert_refused(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_well_formed_token_is_accepted(
    client: httpx.AsyncClient, victim: TestUser, settings: Settings
) -> None:
    token = forge(settings, victim, sid_of(victim))
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_expired_token_is_refused(
    client: httpx.AsyncClient, victim: TestUser, settings: Settings
) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    await assert_refused(client, forge(settings, victim, sid_of(victim), exp=past, iat=past))


async def test_tampered_token_is_refused(client: httpx.AsyncClient, victim: TestUser) -> None:
    header, payload, signature = victim.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    await assert_refused(client, forged)


async def test_alg_none_is_refused(client: httpx.AsyncClient, victim: TestUser) -> None:
    _, payload, _ = victim.access_token.split(".")
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    await assert_refused(client, f"{header}.{payload}.")


@pytest.mark.parametrize("alg", ["HS512", "RS256"])
async def test_other_algorithms_are_refused_even_when_signed_with_the_secret(
    client: httpx.AsyncClient, victim: TestUser, settings: Settings, alg: str
) -> None:
    # HS/RS confusion: an HMAC made with the key, under a header that names another algorithm.
    _, payload, _ = victim.access_token.split(".")
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    digest = hashlib.sha512 if alg == "HS512" else hashlib.sha256
    signing_input = f"{header}.{payload}".encode()
    key = settings.signing_key.encode()
    signature = b64(hmac.new(key, signing_input, digest).digest())
    await assert_refused(client, f"{header}.{payload}.{signature}")


async def test_wrong_secret_issuer_or_missing_claims_are_refused(
    client: httpx.AsyncClient, victim: TestUser, settings: Settings
) -> None:
    sid = sid_of(victim)
    await assert_refused(client, forge(settings, victim, sid, iss="someone-else"))
    await assert_refused(client, forge(settings, victim, sid, jti=None))
    await assert_refused(client, forge(settings, victim, sid, typ="refresh"))
    other_key = jwt.encode(
        {"sub": str(victim.id), "sid": sid, "exp": datetime.now(UTC) + timedelta(minutes=5)},
        "another-secret-that-is-long-enough-32",
        algorithm="HS256",
    )
    await assert_refused(client, other_key)


async def test_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, victim: TestUser
) -> None:
    await assert_refused(client, victim.refresh_token)
    await assert_refused(client, "garbage")


async def test_missing_token_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_token_signed_with_the_old_public_development_key_is_refused(
    client: httpx.AsyncClient, victim: TestUser, settings: Settings
) -> None:
    public = "development-only-secret-do-not-use-in-production"
    assert settings.signing_key != public
    claims = jwt.decode(victim.access_token, options={"verify_signature": False})
    await assert_refused(client, jwt.encode(claims, public, algorithm="HS256"))


async def test_a_hash_made_at_another_cost_is_remade_at_the_configured_one_on_login(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    user = await make_user(app)
    older = PasswordHasher(time_cost=2, memory_cost=2048).hash(PASSWORD)
    async with app.state.sessionmaker() as db:
        await db.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :id"), {"h": older, "id": user.id}
        )
        await db.commit()
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    async with app.state.sessionmaker() as db:
        stored = (
            await db.execute(
                text("SELECT password_hash FROM users WHERE id = :id"), {"id": user.id}
            )
        ).scalar_one()
    cost = f"m={settings.password_hash_memory_kib},t={settings.password_hash_time_cost},"
    assert stored != older
    assert cost in stored
