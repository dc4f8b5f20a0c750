"""The payments provider down (its real mock server killed): a checkout or a refund says so
with a 503 and Retry-After, charges nothing and loses nothing; once it is back, both work."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from oneenglish.stack.manager import Stack
from tests.factories import TestUser, logged_in, make_course
from tests.helpers import pg_scalar
from tests.payments.conftest import checkout, enrollments_of, order_status, pay


async def test_a_checkout_while_stripe_is_down_charges_nothing_and_works_once_it_is_back(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    teacher = await logged_in(fault_app, fault_client, roles=("teacher",))
    learner = await logged_in(fault_app, fault_client)
    course = await make_course(fault_client, teacher, price="12.50")
    fault_stack.stripe_mock.kill()
    try:
        down = await fault_client.post(
            f"/api/courses/{course['id']}/checkout", headers=learner.headers, json={}
        )
        assert down.status_code == 503, down.text
        assert int(down.headers["Retry-After"]) > 0
        assert "nothing was charged" in down.json()["detail"]
        assert await order_status(fault_app, down.json()["order_id"]) == "cancelled"
    finally:
        fault_stack.stripe_mock.start()

    back = await checkout(fault_client, learner, course["id"])

    assert back["order"]["status"] == "pending"
    assert back["checkout_url"]
    assert await enrollments_of(fault_app, learner, course["id"]) == 0


async def test_a_refund_while_stripe_is_down_keeps_the_order_and_the_course(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_stack: Stack
) -> None:
    teacher = await logged_in(fault_app, fault_client, roles=("teacher",))
    learner: TestUser = await logged_in(fault_app, fault_client)
    course: dict[str, Any] = await make_course(fault_client, teacher, price="12.50")
    order = (await checkout(fault_client, learner, course["id"]))["order"]
    await pay(fault_app, fault_client, order)
    url = f"/api/orders/{order['id']}/refund"
    fault_stack.stripe_mock.kill()
    try:
        down = await fault_client.post(url, headers=learner.headers, json={})
        assert down.status_code == 503, down.text
        assert "Retry-After" in down.headers
        assert await order_status(fault_app, order["id"]) == "paid"
        assert await enrollments_of(fault_app, learner, course["id"]) == 1
    finally:
        fault_stack.stripe_mock.start()

    back = await fault_client.post(url, headers=learner.headers, json={})

    assert back.status_code == 200, back.text
    assert back.json()["status"] == "refunded"
    assert await pg_scalar(fault_app, "SELECT count(*) FROM refunds") == 1
