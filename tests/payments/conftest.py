"""What the payments tests share: a paid course, a checkout, and Stripe's signed events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.payments import events
from tests.factories import TestUser, make_course, make_lesson
from tests.helpers import pg_scalar


@pytest.fixture
async def paid_course(client: httpx.AsyncClient, teacher: TestUser) -> dict[str, Any]:
    course = await make_course(client, teacher, price="19.99")
    await make_lesson(client, teacher, course["id"])
    return course


async def checkout(
    client: httpx.AsyncClient, learner: TestUser, course_id: object, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/courses/{course_id}/checkout", headers=learner.headers, json=body
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def deliver(
    client: httpx.AsyncClient,
    secret: str,
    event: dict[str, Any],
    *,
    timestamp: int | None = None,
) -> httpx.Response:
    body, signature = events.signed(event, secret, timestamp)
    return await client.post(
        "/api/payments/webhook",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def paid_event(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return events.event("checkout.session.completed", events.checkout_session(order, **overrides))


async def pay(app: FastAPI, client: httpx.AsyncClient, order: dict[str, Any]) -> dict[str, Any]:
    event = paid_event(order)
    response = await deliver(client, app.state.settings.webhook_secret, event)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "paid_enrolled"
    return event


async def enrollments_of(app: FastAPI, learner: TestUser, course_id: object) -> int:
    count = await pg_scalar(
        app,
        "SELECT count(*) FROM enrollments WHERE user_id = :u AND course_id = :c",
        u=learner.id,
        c=course_id,
    )
    return int(count)


async def order_status(app: FastAPI, order_id: object) -> str:
    return str(await pg_scalar(app, "SELECT status FROM orders WHERE id = :id", id=order_id))
