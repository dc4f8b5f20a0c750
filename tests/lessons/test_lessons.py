"""Lessons: positions, slugs, reordering, content validation and who sees what."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import (
    ANSWER_KEY_FIELDS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    make_course,
    make_lesson,
)


async def orders(
    client: httpx.AsyncClient, user: TestUser, course_id: object
) -> list[tuple[str, int]]:
    lessons = (await client.get(f"/api/courses/{course_id}/lessons", headers=user.headers)).json()
    return [(lesson["title"], lesson["order"]) for lesson in lessons]


async def test_lessons_get_dense_positions_and_can_be_inserted_between(
    client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    for title in ("One", "Two", "Three"):
        await make_lesson(client, teacher, course["id"], title=title)
    inserted = await client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "One and a half", "duration_minutes": 5, "order": 2},
    )
    assert inserted.status_code == 201
    assert await orders(client, teacher, course["id"]) == [
        ("One", 1),
        ("One and a half", 2),
        ("Two", 3),
        ("Three", 4),
    ]
    too_far = await client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "Far", "duration_minutes": 5, "order": 9},
    )
    assert too_far.status_code == 422


async def test_reorder_takes_a_permutation_and_nothing_else(
    client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    a, b, c = [await make_lesson(client, teacher, course["id"], title=t) for t in "ABC"]
    url = f"/api/courses/{course['id']}/lessons/order"
    done = await client.put(
        url, headers=teacher.headers, json={"lesson_ids": [c["id"], a["id"], b["id"]]}
    )
    assert done.status_code == 200
    assert [(x["title"], x["order"]) for x in done.json()] == [("C", 1), ("A", 2), ("B", 3)]
    for bad in (
        [c["id"], a["id"]],  # missing one
        [c["id"], a["id"], a["id"]],  # duplicate
        [c["id"], a["id"], b["id"], "00000000-0000-0000-0000-000000000000"],  # unknown
    ):
        response = await client.put(url, headers=teacher.headers, json={"lesson_ids": bad})
        assert response.status_code == 422
    assert await orders(client, teacher, course["id"]) == [("C", 1), ("A", 2), ("B", 3)]


async def test_lesson_slugs_are_unique_per_course(
    client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    first = await make_lesson(client, teacher, course["id"], title="Greetings")
    second = await make_lesson(client, teacher, course["id"], title="Greetings")
    assert (first["slug"], second["slug"]) == ("greetings", "greetings-2")
    taken = await client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "Hi", "slug": "greetings", "duration_minutes": 5},
    )
    assert taken.status_code == 409
    other_course = await make_course(client, teacher)
    same_slug_elsewhere = await make_lesson(client, teacher, other_course["id"], title="Greetings")
    assert same_slug_elsewhere["slug"] == "greetings"


@pytest.mark.parametrize("duration", [0, -5, 1441, "long"])
async def test_duration_must_be_positive_and_sane(
    client: httpx.AsyncClient, teacher: TestUser, duration: object
) -> None:
    course = await make_course(client, teacher)
    response = await client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "X", "duration_minutes": duration},
    )
    assert response.status_code == 422


async def test_learners_see_only_published_lessons_of_published_courses(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    draft = await make_lesson(client, teacher, course["id"], published=False)
    live = await make_lesson(client, teacher, course["id"])
    assert (
        await client.get(f"/api/lessons/{draft['id']}", headers=learner.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/lessons/{live['id']}", headers=learner.headers)
    ).status_code == 200
    listed = (
        await client.get(f"/api/courses/{course['id']}/lessons", headers=learner.headers)
    ).json()
    assert [x["id"] for x in listed] == [live["id"]]
    await client.post(f"/api/courses/{course['id']}/unpublish", headers=teacher.headers)
    assert (
        await client.get(f"/api/lessons/{live['id']}", headers=learner.headers)
    ).status_code == 404


async def test_content_is_for_enrolled_learners_and_never_carries_answer_keys(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)

    locked = (await client.get(f"/api/lessons/{lesson['id']}", headers=learner.headers)).json()
    assert locked["locked"] is True
    assert locked["content"] is None

    await enroll(client, learner, course["id"])
    response = await client.get(f"/api/lessons/{lesson['id']}", headers=learner.headers)
    body = response.json()
    assert body["locked"] is False
    assert [e["id"] for e in body["content"]["exercises"]] == ["mc1", "fb1", "m1", "ft1"]
    assert body["content"]["exercises"][1]["blanks"] == 2
    for field in ANSWER_KEY_FIELDS:
        assert field not in response.text, field

    managed = (await client.get(f"/api/lessons/{lesson['id']}", headers=teacher.headers)).json()
    assert managed["content"]["exercises"][0]["correct_option_id"] == "b"


@pytest.mark.parametrize(
    "exercise",
    [
        {
            "type": "multiple_choice",
            "id": "x",
            "prompt": "p",
            "options": [{"id": "a", "text": "a"}, {"id": "b", "text": "b"}],
            "correct_option_id": "c",
        },
        {
            "type": "multiple_choice",
            "id": "x",
            "prompt": "p",
            "options": [{"id": "a", "text": "a"}],
            "correct_option_id": "a",
        },
        {"type": "fill_in_blank", "id": "x", "prompt": "no gaps", "blanks": [{"accepted": ["a"]}]},
        {"type": "fill_in_blank", "id": "x", "prompt": "{{blank}}", "blanks": [["a"]]},
        {
            "type": "matching",
            "id": "x",
            "prompt": "p",
            "left": [{"id": "a", "text": "a"}, {"id": "b", "text": "b"}],
            "right": [{"id": "c", "text": "c"}, {"id": "d", "text": "d"}],
            "pairs": {"a": "c"},
        },
        {"type": "essay", "id": "x", "prompt": "p"},
        {"type": "free_text", "id": "bad id!", "prompt": "p"},
    ],
)
async def test_malformed_exercises_are_a_422(
    client: httpx.AsyncClient, teacher: TestUser, exercise: dict[str, object]
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    response = await client.put(
        f"/api/lessons/{lesson['id']}/content",
        headers=teacher.headers,
        json={"exercises": [exercise]},
    )
    assert response.status_code == 422


async def test_content_replacement_is_versioned_and_limited_to_managers(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, other_teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    url = f"/api/lessons/{lesson['id']}/content"
    assert (await client.put(url, headers=other_teacher.headers, json={})).status_code == 403
    replaced = await client.put(
        url, headers=teacher.headers, json={"steps": [{"id": "s", "title": "S"}]}
    )
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    stored = await app.state.mongo_db.lesson_contents.find_one({"_id": lesson["id"]})
    assert stored["courseId"] == course["id"]
    assert stored["exercises"] == []
    duplicate_ids = {
        "steps": [{"id": "a", "title": "A"}],
        "exercises": [{"type": "free_text", "id": "a", "prompt": "p"}],
    }
    assert (await client.put(url, headers=teacher.headers, json=duplicate_ids)).status_code == 422
