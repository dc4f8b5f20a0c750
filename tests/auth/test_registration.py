from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.factories import PASSWORD, make_user

VALID = {"email": "Ada@Example.com", "username": "ada_l", "password": PASSWORD}


async def test_register_creates_a_student_and_never_returns_the_hash(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post("/api/auth/register", json=VALID | {"first_name": "Ada"})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["roles"] == ["student"]
    assert body["is_active"] is True
    assert "password" not in response.text
    assert "hash" not in response.text
    async with app.state.engine.connect() as conn:
        stored = await conn.scalar(text("SELECT password_hash FROM users"))
    assert stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "ADA@example.COM", "username": "other"}, "email"),
        ({"email": "other@example.com", "username": "ADA_L"}, "username"),
    ],
)
async def test_duplicate_email_or_username_is_a_409_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, str], field: str
) -> None:
    assert (await client.post("/api/auth/register", json=VALID)).status_code == 201
    response = await client.post("/api/auth/register", json=VALID | change)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not-an-email"},
        {"username": "a b"},
        {"username": "x"},
        {"password": 12345678901},
        {"is_active": False},
        {"roles": ["admin"]},
        {"password_hash": "$argon2id$..."},
    ],
)
async def test_bad_registration_input_is_a_422_and_creates_nothing(
    client: httpx.AsyncClient, app: FastAPI, change: dict[str, object]
) -> None:
    response = await client.post("/api/auth/register", json=VALID | change)
    assert response.status_code == 422
    assert response.json()["errors"]
    async with app.state.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM users")) == 0


@pytest.mark.parametrize(
    "password", ["short1!", "onlyletterslong", "1234567890123", "ada_l-secret-9", "x" * 129 + "1"]
)
async def test_weak_passwords_are_rejected_with_the_policy(
    client: httpx.AsyncClient, password: str
) -> None:
    response = await client.post("/api/auth/register", json=VALID | {"password": password})
    assert response.status_code == 422
    assert "Password must be" in response.json()["detail"]


async def test_email_uniqueness_is_enforced_by_the_database_itself(app: FastAPI) -> None:
    user = await make_user(app)
    async with app.state.engine.connect() as conn:
        with pytest.raises(Exception, match="uq_users_email_lower"):
            await conn.execute(
                text(
                    "INSERT INTO users (email, username, password_hash) "
                    "VALUES (upper(:email), 'someone_else', 'x')"
                ),
                {"email": user.email},
            )
