"""Arrange helpers: users with roles, tokens, headers. Built through the same workflows the API
uses (so a user has its profile and settings in MongoDB), never by SQL."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from oneenglish.core.context import Actor
from oneenglish.users import service as users
from oneenglish.workflows.register_user import register_user

PASSWORD = "Correct-horse-42"
_counter = itertools.count(1)


@dataclass
class TestUser:
    __test__ = False  # not a test class

    id: uuid.UUID
    email: str
    username: str
    password: str
    access_token: str = ""
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_user(
    app: FastAPI,
    *,
    roles: tuple[str, ...] = ("student",),
    password: str = PASSWORD,
    email: str | None = None,
    username: str | None = None,
) -> TestUser:
    n = next(_counter)
    username = username or f"user{n}_{uuid.uuid4().hex[:6]}"
    email = email or f"{username}@example.com"
    async with app.state.sessionmaker() as db:
        created = await register_user(
            db,
            app.state.saga_runner,
            Actor.system(),
            users.NewUser(email, username, password),
            roles,
        )
    return TestUser(created.id, created.email, created.username, password)


async def login(client: httpx.AsyncClient, user: TestUser) -> TestUser:
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    user.access_token = tokens["access_token"]
    user.refresh_token = tokens["refresh_token"]
    return user


async def logged_in(
    app: FastAPI, client: httpx.AsyncClient, roles: tuple[str, ...] = ("student",)
) -> TestUser:
    return await login(client, await make_user(app, roles=roles))
