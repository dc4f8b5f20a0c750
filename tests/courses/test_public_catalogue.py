"""The catalogue without a token: published courses and their lesson titles, never drafts or
content, within the anonymous read limit per address."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.settings import Settings
from tests.conftest import reset_databases
from tests.factories import SAMPLE_CONTENT, TestUser, make_course, make_lesson


def anonymous(app: FastAPI, ip: str = "198.51.100.30") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_anyone_lists_published_courses_and_never_drafts(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser
) -> None:
    published = await make_course(client, teacher, title="Open to all")
    draft = await make_course(client, teacher, title="Not yet", published=False)
    async with anonymous(app) as visitor:
        listed = await visitor.get("/api/courses")
        drafts = await visitor.get("/api/courses", params={"published": "false"})
        course = await visitor.get(f"/api/courses/{published['id']}")
        hidden = await visitor.get(f"/api/courses/{draft['id']}")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [published["id"]]
    assert drafts.json()["items"] == []
    assert course.json()["title"] == "Open to all"
    assert hidden.status_code == 404


async def test_anyone_sees_a_published_courses_lesson_titles_not_their_content(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    shown = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    await make_lesson(client, teacher, course["id"], published=False)
    async with anonymous(app) as visitor:
        lessons = await visitor.get(f"/api/courses/{course['id']}/lessons")
        lesson = await visitor.get(f"/api/lessons/{shown['id']}")
    assert [(x["id"], x["title"]) for x in lessons.json()] == [(shown["id"], shown["title"])]
    assert "Verbs in the present" not in lessons.text
    assert "exercises" not in lessons.text
    assert lesson.status_code == 401  # the lesson itself is for members


async def test_a_bad_token_is_still_a_401_and_mine_needs_one(app: FastAPI) -> None:
    async with anonymous(app) as visitor:
        bad = await visitor.get("/api/courses", headers={"Authorization": "Bearer nonsense"})
        mine = await visitor.get("/api/courses", params={"mine": "true"})
    assert bad.status_code == 401
    assert mine.status_code == 401


async def test_anonymous_reads_are_limited_per_address(migrated: Settings) -> None:
    strict = migrated.model_copy(update={"anonymous_reads_per_ip_per_minute": 3})
    application = create_app(strict)
    async with application.router.lifespan_context(application):
        async with anonymous(application, "203.0.113.77") as visitor:
            codes = [(await visitor.get("/api/courses")).status_code for _ in range(4)]
            refused = await visitor.get("/api/courses")
        async with anonymous(application, "203.0.113.78") as other:
            elsewhere = await other.get("/api/courses")
        await reset_databases(application)
    assert codes == [200, 200, 200, 429]
    assert int(refused.headers["retry-after"]) >= 1
    assert elsewhere.status_code == 200
