"""After an attempt: the learner's answer, right or wrong, and (as the lesson's show_answers
allows) the correct answer and the teacher's explanation. Free text is an exact match after
normalisation against accepted answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oneenglish.progress.grading import normalise
from tests.factories import (
    PERFECT_ANSWERS,
    SAMPLE_CONTENT,
    TestUser,
    enroll,
    make_course,
    make_lesson,
)

WRONG = [{"type": "multiple_choice", "exercise_id": "mc1", "option_id": "a"}]


async def lesson_with(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, show_answers: str
) -> str:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"], content=SAMPLE_CONTENT)
    response = await client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json={"show_answers": show_answers}
    )
    assert response.json()["show_answers"] == show_answers
    await enroll(client, learner, course["id"])
    return f"/api/lessons/{lesson['id']}/quiz"


async def attempt(
    client: httpx.AsyncClient, learner: TestUser, url: str, answers: list[Any]
) -> httpx.Response:
    response = await client.post(url, headers=learner.headers, json={"answers": answers})
    assert response.status_code == 200, response.text
    return response


async def test_each_attempt_shows_the_answer_the_key_and_the_explanation(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    url = await lesson_with(client, teacher, learner, "after_each_attempt")
    body = (await attempt(client, learner, url, WRONG)).json()
    assert body["answers_shown"] is True
    results = {r["exercise_id"]: r for r in body["results"]}
    choice = results["mc1"]
    assert (choice["answer"], choice["correct"]) == ({"option_id": "a"}, False)
    assert choice["correct_answer"] == {"option_id": "b"}
    assert choice["explanation"] == "Third person singular: he goes."
    assert results["fb1"]["answer"] is None  # not answered
    assert results["fb1"]["correct_answer"] == {"blanks": [["speak"], ["speaks"]]}
    assert results["m1"]["correct_answer"] == {"pairs": {"hot": "cold", "big": "small"}}
    assert results["ft1"]["correct_answer"]["accepted_answers"][0] == "I wake up and eat breakfast"


async def test_never_shows_no_key_whatever_the_score(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    url = await lesson_with(client, teacher, learner, "never")
    for answers in (WRONG, PERFECT_ANSWERS):
        response = await attempt(client, learner, url, answers)
        assert response.json()["answers_shown"] is False
        results = response.json()["results"]
        assert all(r["correct_answer"] is None and r["explanation"] is None for r in results)
        for secret in ("Third person", "speaks", "accepted", "correct_option_id"):
            assert secret not in response.text
        assert response.json()["results"][0]["answer"] is not None  # their own answer, still


async def test_after_passing_shows_the_key_once_an_attempt_passed(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    url = await lesson_with(client, teacher, learner, "after_passing")
    failed = (await attempt(client, learner, url, WRONG)).json()
    assert failed["answers_shown"] is False
    assert failed["results"][0]["correct_answer"] is None
    passed = (await attempt(client, learner, url, PERFECT_ANSWERS)).json()
    assert passed["answers_shown"] is True
    again = (await attempt(client, learner, url, WRONG)).json()  # passed before: still shown
    assert again["answers_shown"] is True
    assert again["results"][0]["correct_answer"] == {"option_id": "b"}


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("I wake up and eat breakfast", True),
        ("  i WAKE up   and eat breakfast!!! ", True),
        ("I wake up, then I have breakfast.", True),
        ("“I wake up and eat breakfast”", True),
        ("I wake up and eat", False),
        ("Breakfast? I wake up and eat breakfast every day", False),  # contains it: not it
        ("wake breakfast", False),
    ],
)
async def test_free_text_is_an_exact_match_after_normalisation(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, given: str, right: bool
) -> None:
    url = await lesson_with(client, teacher, learner, "after_each_attempt")
    answer = [{"type": "free_text", "exercise_id": "ft1", "text": given}]
    [result] = [
        r
        for r in (await attempt(client, learner, url, answer)).json()["results"]
        if r["exercise_id"] == "ft1"
    ]
    assert result["correct"] is right


def test_normalisation_keeps_apostrophes_in_words_and_ignores_typography() -> None:
    assert normalise("Don’t   STOP—now!") == normalise("don't stop - now") == "don't stop now"
    assert normalise("don't") != normalise("dont")
    assert normalise("Ａｐｐｌｅ") == "apple"  # full-width letters (NFKC)
    assert normalise("Apple", case_sensitive=True) == "Apple"


async def test_an_explanation_is_validated_and_never_in_the_learners_lesson(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    url = await lesson_with(client, teacher, learner, "after_each_attempt")
    lesson_id = url.split("/")[3]
    view = await client.get(f"/api/lessons/{lesson_id}", headers=learner.headers)
    assert "explanation" not in view.text
    too_long: dict[str, Any] = {
        **SAMPLE_CONTENT,
        "exercises": [{**SAMPLE_CONTENT["exercises"][0], "explanation": "x" * 2001}],  # type: ignore[index]
    }
    response = await client.put(
        f"/api/lessons/{lesson_id}/content", headers=teacher.headers, json=too_long
    )
    assert response.status_code == 422
