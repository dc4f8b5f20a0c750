"""Courses: slugs, visibility, ownership, filters and bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.factories import TestUser, make_course


async def test_slug_is_generated_from_the_title_and_made_unique(
    client: httpx.AsyncClient, teacher: TestUser
) -> None:
    first = await client.post(
        "/api/courses", headers=teacher.headers, json={"title": "Inglés básico", "level": "A1"}
    )
    second = await client.post(
        "/api/courses", headers=teacher.headers, json={"title": "Inglés Básico!", "level": "A2"}
    )
    assert first.json()["slug"] == "ingles-basico"
    assert second.json()["slug"] == "ingles-basico-2"
    assert first.json()["is_published"] is False
    assert first.json()["price"] == "0.00"


async def test_an_explicit_slug_that_is_taken_is_a_409(
    client: httpx.AsyncClient, teacher: TestUser
) -> None:
    body = {"title": "Business English", "slug": "business", "level": "B2"}
    assert (
        await client.post("/api/courses", headers=teacher.headers, json=body)
    ).status_code == 201
    again = await client.post("/api/courses", headers=teacher.headers, json=body)
    assert again.status_code == 409
    assert again.json()["field"] == "slug"
    other = await client.post(
        "/api/courses", headers=teacher.headers, json={"title": "Other", "level": "B2"}
    )
    patched = await client.patch(
        f"/api/courses/{other.json()['id']}", headers=teacher.headers, json={"slug": "business"}
    )
    assert patched.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "level": "A1"},
        {"title": "x", "level": "D1"},
        {"title": "x", "level": "A1", "price": "-1"},
        {"title": "x", "level": "A1", "price": "1.234"},
        {"title": "x", "level": "A1", "slug": "Not A Slug"},
        {"title": "x", "level": "A1", "is_published": True},
        {"title": "x", "level": "A1", "created_by": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_bad_course_input_is_a_422(
    client: httpx.AsyncClient, teacher: TestUser, body: dict[str, object]
) -> None:
    assert (
        await client.post("/api/courses", headers=teacher.headers, json=body)
    ).status_code == 422


async def test_price_and_level_rules_live_in_the_database_too(app: FastAPI) -> None:
    async with app.state.engine.connect() as conn:
        with pytest.raises(Exception, match="ck_courses_price_not_negative"):
            await conn.execute(
                text("INSERT INTO courses (title, slug, level, price) VALUES ('x', 'x', 'A1', -5)")
            )


async def test_learners_cannot_create_courses(client: httpx.AsyncClient, learner: TestUser) -> None:
    response = await client.post(
        "/api/courses", headers=learner.headers, json={"title": "Mine", "level": "A1"}
    )
    assert response.status_code == 403


async def test_drafts_are_invisible_to_learners(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    draft = await make_course(client, teacher, published=False)
    live = await make_course(client, teacher)
    assert (
        await client.get(f"/api/courses/{draft['id']}", headers=learner.headers)
    ).status_code == 404
    listing = (await client.get("/api/courses", headers=learner.headers)).json()
    assert [c["id"] for c in listing["items"]] == [live["id"]]
    own = (await client.get("/api/courses", headers=teacher.headers, params={"mine": True})).json()
    assert {c["id"] for c in own["items"]} == {draft["id"], live["id"]}


async def test_teachers_manage_only_their_own_courses_and_admins_all(
    client: httpx.AsyncClient, teacher: TestUser, other_teacher: TestUser, admin: TestUser
) -> None:
    course = await make_course(client, teacher)
    path = f"/api/courses/{course['id']}"
    assert (
        await client.patch(path, headers=other_teacher.headers, json={"title": "Mine now"})
    ).status_code == 403
    assert (
        await client.post(f"{path}/unpublish", headers=other_teacher.headers)
    ).status_code == 403
    ok = await client.patch(path, headers=admin.headers, json={"description": "Edited by admin"})
    assert ok.status_code == 200
    assert ok.json()["description"] == "Edited by admin"


async def test_the_list_filters_sorts_and_pages_with_a_total(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    await make_course(client, teacher, title="Grammar for travellers", level="A2", price="10")
    await make_course(client, teacher, title="Advanced grammar", level="C1", price="50")
    await make_course(client, teacher, title="Phrasal verbs", level="B2", price="30")

    async def titles(**params: Any) -> list[str]:
        response = await client.get("/api/courses", headers=learner.headers, params=params)
        assert response.status_code == 200
        return [c["title"] for c in response.json()["items"]]

    assert await titles(level="C1") == ["Advanced grammar"]
    assert await titles(min_price=20, sort="price") == ["Phrasal verbs", "Advanced grammar"]
    assert await titles(max_price=30, sort="-price") == ["Phrasal verbs", "Grammar for travellers"]
    assert await titles(search="GRAMMAR", sort="title") == [
        "Advanced grammar",
        "Grammar for travellers",
    ]
    page = (
        await client.get(
            "/api/courses", headers=learner.headers, params={"page_size": 2, "page": 2}
        )
    ).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1
    past_the_end = (
        await client.get(
            "/api/courses", headers=learner.headers, params={"page_size": 2, "page": 3}
        )
    ).json()
    assert past_the_end["total"] == 3  # counted even when the page has no row to carry it
    assert past_the_end["items"] == []
    assert await titles(search="%") == []  # LIKE wildcards in a search are literal
    assert await titles(search="r_v") == []
    for bad in ({"level": "Z9"}, {"min_price": -1}, {"sort": "random"}, {"page_size": 500}):
        assert (
            await client.get("/api/courses", headers=learner.headers, params=bad)
        ).status_code == 422
