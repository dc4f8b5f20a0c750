from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import SAMPLE_CONTENT, TestUser, enroll, make_course, make_lesson


async def test_deleting_a_lesson_removes_its_documents_closes_the_gap_and_moves_progress(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, learner: TestUser
) -> None:
    course = await make_course(client, teacher)
    first = await make_lesson(client, teacher, course["id"], title="First")
    doomed = await make_lesson(
        client, teacher, course["id"], title="Doomed", content=SAMPLE_CONTENT
    )
    await make_lesson(client, teacher, course["id"], title="Last")
    await enroll(client, learner, course["id"])
    await client.put(
        f"/api/lessons/{first['id']}/progress", headers=learner.headers, json={"completed": True}
    )
    await client.put(
        f"/api/lessons/{doomed['id']}/progress",
        headers=learner.headers,
        json={"completed_steps": ["intro"]},
    )
    assert (
        await client.delete(f"/api/lessons/{doomed['id']}", headers=learner.headers)
    ).status_code == 403
    assert (
        await client.delete(f"/api/lessons/{doomed['id']}", headers=teacher.headers)
    ).status_code == 204

    lessons = (
        await client.get(f"/api/courses/{course['id']}/lessons", headers=teacher.headers)
    ).json()
    assert [(x["title"], x["order"]) for x in lessons] == [("First", 1), ("Last", 2)]
    mongo = app.state.mongo_db
    assert await mongo.lesson_contents.count_documents({"_id": doomed["id"]}) == 0
    assert await mongo.lesson_progress.count_documents({"lessonId": doomed["id"]}) == 0
    mine = (await client.get("/api/me/enrollments", headers=learner.headers)).json()["items"][0]
    assert mine["progress"] == "50.00"
