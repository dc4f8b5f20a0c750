"""Reports for teachers (their courses) and administrators (the platform), JSON and CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from oneenglish.db import rls
from tests.factories import TestUser, enroll, make_course, make_lesson
from tests.helpers import later

TODAY = datetime.now(UTC).date()


async def manual_lesson(
    client: httpx.AsyncClient, teacher: TestUser, course_id: str
) -> dict[str, str]:
    lesson = await make_lesson(client, teacher, course_id)
    response = await client.patch(
        f"/api/lessons/{lesson['id']}", headers=teacher.headers, json={"completion": "manual"}
    )
    return dict(response.json())


async def complete(
    client: httpx.AsyncClient, learner: TestUser, lesson: dict[str, str], minutes: int
) -> None:
    with later(minutes=minutes):
        response = await client.put(
            f"/api/lessons/{lesson['id']}/progress",
            headers=learner.headers,
            json={"completed": True, "time_spent_seconds": minutes * 60},
        )
    assert response.status_code == 200, response.text


async def test_a_teacher_sees_their_courses_enrolments_funnel_and_time(
    client: httpx.AsyncClient, teacher: TestUser, alice: TestUser, bob: TestUser
) -> None:
    course = await make_course(client, teacher)
    first = await manual_lesson(client, teacher, course["id"])
    second = await manual_lesson(client, teacher, course["id"])
    for learner in (alice, bob):
        await enroll(client, learner, course["id"])
    await complete(client, alice, first, 20)
    await complete(client, alice, second, 40)
    await complete(client, bob, first, 3)
    base = f"/api/reports/courses/{course['id']}"

    enrolments = (await client.get(f"{base}/enrolments", headers=teacher.headers)).json()
    assert enrolments["total"] == 2
    assert enrolments["bucket"] == "week"
    assert enrolments["range"] == {
        "from": (TODAY - timedelta(days=89)).isoformat(),
        "to": TODAY.isoformat(),
    }

    funnel = (await client.get(f"{base}/funnel", headers=teacher.headers)).json()
    assert funnel["enrolled"] == 2
    assert [(s["order"], s["started"], s["completed"]) for s in funnel["lessons"]] == [
        (1, 2, 2),
        (2, 1, 1),
    ]
    assert funnel["lessons"][1]["completion_rate"] == 50.0

    buckets = (await client.get(f"{base}/time-spent", headers=teacher.headers)).json()["buckets"]
    by_range = {(b["from_minutes"], b["to_minutes"]): b["learners"] for b in buckets}
    assert by_range[(0, 5)] == 1  # bob: 3 minutes
    assert by_range[(60, 120)] == 0
    assert sum(by_range.values()) == 2  # alice: her credited total, in one bucket


async def test_a_course_report_is_for_its_teacher_and_administrators_only(
    client: httpx.AsyncClient,
    teacher: TestUser,
    other_teacher: TestUser,
    admin: TestUser,
    alice: TestUser,
) -> None:
    course = await make_course(client, teacher)
    await enroll(client, alice, course["id"])
    url = f"/api/reports/courses/{course['id']}/enrolments"
    assert (await client.get(url, headers=other_teacher.headers)).status_code == 403
    assert (await client.get(url, headers=alice.headers)).status_code == 403
    assert (await client.get(url, headers=admin.headers)).json()["total"] == 1
    draft = await make_course(client, teacher, published=False)
    hidden = f"/api/reports/courses/{draft['id']}/funnel"
    assert (await client.get(hidden, headers=alice.headers)).status_code == 404


async def test_platform_reports_need_users_read(
    client: httpx.AsyncClient, teacher: TestUser, admin: TestUser, alice: TestUser
) -> None:
    popular = await make_course(client, teacher, title="Popular")
    quiet = await make_course(client, teacher, title="Quiet")
    await enroll(client, alice, popular["id"])
    await enroll(client, admin, popular["id"])
    await enroll(client, alice, quiet["id"])
    signups = (await client.get("/api/reports/platform/signups", headers=admin.headers)).json()
    assert signups["total"] >= 3  # teacher, admin and alice joined today
    assert signups["points"][-1]["period_start"].startswith(TODAY.isoformat())
    top = (await client.get("/api/reports/platform/top-courses", headers=admin.headers)).json()
    assert [(c["title"], c["enrolments"]) for c in top["courses"]] == [("Popular", 2), ("Quiet", 1)]
    for path in ("/api/reports/platform/signups", "/api/reports/platform/top-courses"):
        assert (await client.get(path, headers=teacher.headers)).status_code == 403


async def test_every_report_downloads_as_csv(
    client: httpx.AsyncClient, teacher: TestUser, admin: TestUser, alice: TestUser
) -> None:
    course = await make_course(client, teacher, title="Csv, with a comma")
    lesson = await manual_lesson(client, teacher, course["id"])
    await enroll(client, alice, course["id"])
    await complete(client, alice, lesson, 10)
    base = f"/api/reports/courses/{course['id']}"
    expected = {
        f"{base}/enrolments": "period_start,enrolments",
        f"{base}/funnel": "order,title,started,completed,completion_rate",
        f"{base}/time-spent": "from_minutes,to_minutes,learners",
        f"{base}/active-learners": "period_start,learners",
        "/api/reports/platform/active-users": "period_start,active_users",
        "/api/reports/platform/signups": "period_start,signups",
        "/api/reports/platform/top-courses": "course_id,title,enrolments,completed",
    }
    for path, header in expected.items():
        viewer = admin if "platform" in path else teacher
        response = await client.get(path, headers=viewer.headers, params={"format": "csv"})
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        lines = response.text.splitlines()
        assert lines[0] == header
        assert len(lines) >= 2, path
    top = await client.get(
        "/api/reports/platform/top-courses", headers=admin.headers, params={"format": "csv"}
    )
    assert '"Csv, with a comma"' in top.text


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"from": "2025-01-01", "to": "2026-06-01"},
        {"from": "yesterday"},
        {"bucket": "month"},
        {"format": "xlsx"},
    ],
)
async def test_bad_report_ranges_and_options_are_a_422(
    client: httpx.AsyncClient, admin: TestUser, params: dict[str, str]
) -> None:
    response = await client.get(
        "/api/reports/platform/signups", headers=admin.headers, params=params
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_year_is_the_longest_range(client: httpx.AsyncClient, admin: TestUser) -> None:
    params = {"from": "2025-06-02", "to": "2026-06-02"}  # 366 days, inclusive
    response = await client.get(
        "/api/reports/platform/signups", headers=admin.headers, params=params
    )
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (
            "SELECT date_trunc('week', created_at, 'UTC'), count(*) FROM enrollments "
            "WHERE course_id = '00000000-0000-4000-8000-000000000000'::uuid "
            "AND created_at >= now() - interval '90 days' AND created_at < now() GROUP BY 1",
            "ix_enrollments_course_created",
        ),
        (
            "SELECT date_trunc('day', created_at, 'UTC'), count(*) FROM users "
            "WHERE created_at >= now() - interval '90 days' AND created_at < now() GROUP BY 1",
            "ix_users_created_at_id",
        ),
        (
            "SELECT a.lesson_id, count(*) FROM lesson_activity a JOIN enrollments e "
            "ON e.id = a.enrollment_id "
            "WHERE e.course_id = '00000000-0000-4000-8000-000000000000'::uuid GROUP BY 1",
            "ix_enrollments_course_created",
        ),
        (
            "SELECT date_trunc('week', day), count(DISTINCT user_id) FROM study_days "
            "WHERE course_id = '00000000-0000-4000-8000-000000000000'::uuid "
            "AND day >= current_date - 90 AND day <= current_date GROUP BY 1",
            # On the test's near-empty table the primary key (course, day, user) and the
            # (day, user) index cost the same and the planner takes either (it failed twice in
            # full runs with the second); both serve the range, and at the bench's 39,000 study
            # days the plan uses the primary key.
            ("pk_study_days", "ix_study_days_day_user"),
        ),
        (
            "SELECT date_trunc('day', day), count(DISTINCT user_id) FROM study_days "
            "WHERE day >= current_date - 90 AND day <= current_date GROUP BY 1",
            "ix_study_days_day_user",
        ),
        (
            "SELECT lesson_id, exercise_id, sum(points) FROM quiz_answers "
            "WHERE course_id = '00000000-0000-4000-8000-000000000000'::uuid "
            "AND submitted_at >= now() - interval '90 days' AND submitted_at < now() "
            "GROUP BY 1, 2",
            "ix_quiz_answers_course_submitted",
        ),
    ],
)
async def test_each_report_query_has_an_index(
    app: FastAPI, query: str, index: str | tuple[str, ...]
) -> None:
    """The reports' range and course filters are served by an index (the plan with sequential
    scans disabled names it), as the repositories' aggregates filter."""
    with rls.system():
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join((await conn.execute(text(f"EXPLAIN {query}"))).scalars())
    expected = (index,) if isinstance(index, str) else index
    assert any(name in plan for name in expected), plan
