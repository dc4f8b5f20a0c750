"""Arrange helpers: users with roles, tokens, headers. Built through the same workflows the API
uses (so a user has its profile and settings in MongoDB), never by SQL."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

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


# -- learning --------------------------------------------------------------------------------

SAMPLE_CONTENT: dict[str, object] = {
    "body": {"type": "doc", "content": [{"type": "paragraph", "text": "Verbs in the present."}]},
    "steps": [{"id": "intro", "title": "Introduction"}, {"id": "practice", "title": "Practice"}],
    "resources": [
        {
            "type": "audio",
            "title": "Listen",
            "url": "https://cdn.example.com/a.mp3",
            "mime_type": "audio/mpeg",
        }
    ],
    "exercises": [
        {
            "type": "multiple_choice",
            "id": "mc1",
            "prompt": "She ___ to school.",
            "options": [{"id": "a", "text": "go"}, {"id": "b", "text": "goes"}],
            "correct_option_id": "b",
            "points": 2,
            "explanation": "Third person singular: he goes.",
        },
        {
            "type": "fill_in_blank",
            "id": "fb1",
            "prompt": "I {{blank}} English and she {{blank}} French.",
            "blanks": [{"accepted": ["speak"]}, {"accepted": ["speaks"]}],
            "points": 2,
        },
        {
            "type": "matching",
            "id": "m1",
            "prompt": "Match the opposites",
            "left": [{"id": "hot", "text": "hot"}, {"id": "big", "text": "big"}],
            "right": [{"id": "cold", "text": "cold"}, {"id": "small", "text": "small"}],
            "pairs": {"hot": "cold", "big": "small"},
        },
        {
            "type": "free_text",
            "id": "ft1",
            "prompt": "Describe your morning routine.",
            "accepted_answers": ["I wake up and eat breakfast", "I wake up, then I have breakfast"],
        },
    ],
}

PERFECT_ANSWERS: list[dict[str, object]] = [
    {"type": "multiple_choice", "exercise_id": "mc1", "option_id": "b"},
    {"type": "fill_in_blank", "exercise_id": "fb1", "blanks": ["speak", "  Speaks "]},
    {"type": "matching", "exercise_id": "m1", "pairs": {"hot": "cold", "big": "small"}},
    {"type": "free_text", "exercise_id": "ft1", "text": "I wake up and eat breakfast."},
]

# Fields that exist only in answer keys: a learner must never receive any of them.
ANSWER_KEY_FIELDS = (
    "correct_option_id",
    "accepted",
    'pairs": {"hot',
    "accepted_answers",
    "case_sensitive",
    "explanation",
)


async def make_course(
    client: httpx.AsyncClient,
    teacher: TestUser,
    *,
    published: bool = True,
    title: str | None = None,
    level: str = "A1",
    price: str = "0",
) -> dict[str, Any]:
    response = await client.post(
        "/api/courses",
        headers=teacher.headers,
        json={"title": title or f"Course {uuid.uuid4().hex[:8]}", "level": level, "price": price},
    )
    assert response.status_code == 201, response.text
    course: dict[str, Any] = response.json()
    if published:
        published_response = await client.post(
            f"/api/courses/{course['id']}/publish", headers=teacher.headers
        )
        assert published_response.status_code == 200
        course = published_response.json()
    return course


async def make_lesson(
    client: httpx.AsyncClient,
    teacher: TestUser,
    course_id: object,
    *,
    published: bool = True,
    content: dict[str, object] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    body: dict[str, object] = {
        "title": title or f"Lesson {uuid.uuid4().hex[:8]}",
        "duration_minutes": 15,
        "is_published": published,
    }
    if content is not None:
        body["content"] = content
    response = await client.post(
        f"/api/courses/{course_id}/lessons", headers=teacher.headers, json=body
    )
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def enroll(client: httpx.AsyncClient, learner: TestUser, course_id: object) -> dict[str, Any]:
    response = await client.post(f"/api/courses/{course_id}/enrollments", headers=learner.headers)
    assert response.status_code == 201, response.text
    enrollment: dict[str, Any] = response.json()
    return enrollment
