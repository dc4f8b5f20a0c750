"""Buying a course: the checkout talks to Stripe's official mock server (stripe-mock, started
by the stack), and Stripe's part of the conversation, its webhook events, is played by the
tests with real event payloads signed with the configured secret."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from oneenglish.jobs.orders import expire_orders
from oneenglish.payments import events
from tests.factories import TestUser, enroll, logged_in, make_course
from tests.helpers import pg_execute, pg_scalar
from tests.payments.conftest import (
    checkout,
    deliver,
    enrollments_of,
    order_status,
    paid_event,
    pay,
)


async def test_a_paid_course_cannot_be_joined_without_paying(
    client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    response = await client.post(
        f"/api/courses/{paid_course['id']}/enrollments", headers=learner.headers
    )

    assert response.status_code == 402, response.text
    assert response.json()["checkout"] == f"/api/courses/{paid_course['id']}/checkout"


async def test_a_checkout_makes_a_pending_order_and_a_stripe_session_without_enrolling(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    bought = await checkout(client, learner, paid_course["id"])

    order = bought["order"]
    assert bought["enrolled"] is False
    assert bought["checkout_url"].startswith("https://checkout.stripe.com/")
    assert order["checkout_session_id"].startswith("cs_test_")
    assert (order["status"], order["total"], order["currency"]) == ("pending", "19.99", "EUR")
    assert (order["list_price"], order["discount"]) == ("19.99", "0.00")
    assert await enrollments_of(app, learner, paid_course["id"]) == 0


async def test_a_second_checkout_while_pending_returns_the_same_order(
    client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    first = await checkout(client, learner, paid_course["id"])
    second = await checkout(client, learner, paid_course["id"])

    assert second["order"]["id"] == first["order"]["id"]
    assert second["checkout_url"] == first["checkout_url"]


async def test_a_paid_checkout_enrols_exactly_once_when_the_webhook_comes_three_times_at_once(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    event = paid_event(order)
    secret = app.state.settings.webhook_secret

    answers = await asyncio.gather(*(deliver(client, secret, event) for _ in range(3)))

    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(a.json()["outcome"] for a in answers) == [
        "duplicate",
        "duplicate",
        "paid_enrolled",
    ]
    assert await enrollments_of(app, learner, paid_course["id"]) == 1
    assert await order_status(app, order["id"]) == "paid"
    payments = await pg_scalar(
        app, "SELECT count(*) FROM payments WHERE order_id = :o", o=order["id"]
    )
    assert payments == 1


async def test_a_second_event_for_the_same_payment_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)
    succeeded = events.event(
        "checkout.session.async_payment_succeeded", events.checkout_session(order)
    )

    response = await deliver(client, app.state.settings.webhook_secret, succeeded)

    assert response.json()["outcome"] == "already_paid"
    assert await enrollments_of(app, learner, paid_course["id"]) == 1


async def test_a_paid_order_shows_its_payment_and_the_enrolment_reaches_mongodb(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    event = await pay(app, client, order)

    mine = await client.get("/api/me/orders", headers=learner.headers)
    [paid] = mine.json()["items"]
    assert paid["status"] == "paid"
    assert paid["checkout_url"] is None
    assert paid["payment"]["amount"] == "19.99"
    assert paid["payment"]["provider_payment_id"] == event["data"]["object"]["payment_intent"]
    enrolled = await client.get("/api/me/enrollments", headers=learner.headers)
    assert [e["course_id"] for e in enrolled.json()["items"]] == [paid_course["id"]]


async def test_a_forged_stale_or_missing_signature_is_a_400_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    event = paid_event(order)
    secret = app.state.settings.webhook_secret
    body, _ = events.signed(event, secret)

    forged = await deliver(client, "whsec_not_the_secret", event)
    stale = await deliver(client, secret, event, timestamp=int(time.time()) - 3600)
    unsigned = await client.post("/api/payments/webhook", content=body)
    tampered_body = body.replace(b'"paid"', b'"PAID"')
    _, signature = events.signed(event, secret)
    tampered = await client.post(
        "/api/payments/webhook", content=tampered_body, headers={"Stripe-Signature": signature}
    )

    for response in (forged, stale, unsigned, tampered):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await order_status(app, order["id"]) == "pending"
    assert await enrollments_of(app, learner, paid_course["id"]) == 0
    assert await pg_scalar(app, "SELECT count(*) FROM payment_events") == 0


async def test_a_payment_of_another_amount_enrols_nobody(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    event = paid_event(order, amount=Decimal("0.50"))

    response = await deliver(client, app.state.settings.webhook_secret, event)

    assert response.json()["outcome"] == "amount_mismatch"
    assert await order_status(app, order["id"]) == "pending"
    assert await enrollments_of(app, learner, paid_course["id"]) == 0


async def test_a_course_already_owned_cannot_be_bought_again(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)

    again = await client.post(
        f"/api/courses/{paid_course['id']}/checkout", headers=learner.headers, json={}
    )

    assert again.status_code == 409, again.text
    assert await pg_scalar(app, "SELECT count(*) FROM orders") == 1


async def test_price_changes_do_not_touch_existing_orders(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    teacher: TestUser,
    paid_course: dict[str, Any],
) -> None:
    placed = (await checkout(client, learner, paid_course["id"]))["order"]
    patched = await client.patch(
        f"/api/courses/{paid_course['id']}", headers=teacher.headers, json={"price": "29.99"}
    )
    assert patched.status_code == 200, patched.text
    await pay(app, client, placed)  # the 19.99 the learner was shown

    newcomer = await logged_in(app, client)
    later_order = (await checkout(client, newcomer, paid_course["id"]))["order"]
    mine = (await client.get(f"/api/orders/{placed['id']}", headers=learner.headers)).json()
    assert (mine["total"], mine["status"]) == ("19.99", "paid")
    assert later_order["total"] == "29.99"


async def test_a_free_course_bought_through_the_checkout_enrols_at_once(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, teacher: TestUser
) -> None:
    course = await make_course(client, teacher, price="0")

    bought = await checkout(client, learner, course["id"])

    assert bought["enrolled"] is True
    assert bought["checkout_url"] is None
    assert (bought["order"]["status"], bought["order"]["total"]) == ("paid", "0.00")
    assert await enrollments_of(app, learner, course["id"]) == 1


async def test_orders_expire_when_their_session_does_and_a_new_checkout_starts_over(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pg_execute(
        app,
        "UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = :id",
        id=order["id"],
    )

    expired = await expire_orders(app.state.sessionmaker)
    fresh = await checkout(client, learner, paid_course["id"])

    assert expired == 1
    assert await order_status(app, order["id"]) == "expired"
    assert fresh["order"]["id"] != order["id"]


async def test_an_expiry_event_then_a_late_payment_still_enrols(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    secret = app.state.settings.webhook_secret
    expired = events.event("checkout.session.expired", events.checkout_session(order))

    first = await deliver(client, secret, expired)
    second = await deliver(client, secret, paid_event(order))

    assert first.json()["outcome"] == "expired"
    assert second.json()["outcome"] == "paid_enrolled"
    assert await order_status(app, order["id"]) == "paid"
    assert await enrollments_of(app, learner, paid_course["id"]) == 1


async def test_an_expiry_event_after_the_payment_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)
    expired = events.event("checkout.session.expired", events.checkout_session(order))

    response = await deliver(client, app.state.settings.webhook_secret, expired)

    assert response.json()["outcome"] == "already_paid"
    assert await enrollments_of(app, learner, paid_course["id"]) == 1


async def test_an_event_for_an_unknown_order_or_of_another_type_does_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    secret = app.state.settings.webhook_secret
    stranger = {"id": str(uuid.uuid4()), "currency": "EUR", "total": "5.00"}

    unknown = await deliver(client, secret, paid_event(stranger))
    other = await deliver(client, secret, events.event("customer.created", {"id": "cus_1"}))

    assert unknown.json()["outcome"] == "unknown_order"
    assert other.json()["outcome"] == "ignored"


async def test_a_malformed_event_is_a_400(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await deliver(client, app.state.settings.webhook_secret, {"nothing": "here"})

    assert response.status_code == 400, response.text


async def test_cancelling_a_pending_order_ends_it(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]

    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=learner.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["checkout_url"] is None


async def test_orders_are_their_learners_and_staff_see_them_all(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    bob: TestUser,
    admin: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)
    await checkout(client, bob, paid_course["id"])

    bobs = await client.get("/api/me/orders", headers=bob.headers)
    foreign = await client.get(f"/api/orders/{order['id']}", headers=bob.headers)
    listing = await client.get("/api/orders", headers=bob.headers)
    paid_only = await client.get("/api/orders?status=paid", headers=admin.headers)
    everything = await client.get("/api/orders", headers=admin.headers)

    assert [o["status"] for o in bobs.json()["items"]] == ["pending"]
    assert foreign.status_code == 404
    assert listing.status_code == 403
    assert [o["id"] for o in paid_only.json()["items"]] == [order["id"]]
    assert everything.json()["total"] == 2


async def test_bad_order_filters_are_a_422(client: httpx.AsyncClient, admin: TestUser) -> None:
    for query in ("status=sold", "course_id=nope", "statu=paid", "created_from=yesterday"):
        response = await client.get(f"/api/orders?{query}", headers=admin.headers)
        assert response.status_code == 422, (query, response.text)


async def test_an_erased_learners_orders_stay_anonymous_and_their_export_has_receipts(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    admin: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)
    export = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    assert export.status_code == 200, export.text
    [receipt] = export.json()["postgresql"]["orders"]
    assert (receipt["total"], receipt["payment"]["amount"]) == ("19.99", "19.99")

    erased = await client.delete(f"/api/users/{learner.id}", headers=admin.headers)

    assert erased.status_code in (200, 202, 204), erased.text
    row = await pg_scalar(
        app,
        "SELECT learner_id IS NULL AND status = 'paid' FROM orders WHERE id = :id",
        id=order["id"],
    )
    assert row is True


async def test_a_learner_who_left_a_bought_course_gets_it_back_without_paying_again(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    await pay(app, client, order)
    [enrollment] = (await client.get("/api/me/enrollments", headers=learner.headers)).json()[
        "items"
    ]
    left = await client.delete(f"/api/enrollments/{enrollment['id']}", headers=learner.headers)
    assert left.status_code == 204

    back = await checkout(client, learner, paid_course["id"])

    assert back["enrolled"] is True
    assert back["order"]["id"] == order["id"]
    assert await enrollments_of(app, learner, paid_course["id"]) == 1


async def test_a_free_course_still_enrols_directly(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)

    await enroll(client, learner, course["id"])

    assert await pg_scalar(app, "SELECT count(*) FROM orders") == 0
