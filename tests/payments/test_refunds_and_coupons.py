"""Refunds end access; coupons discount, once per learner, within their window and limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from oneenglish.jobs.orders import expire_orders
from oneenglish.payments import events
from tests.factories import TestUser, logged_in, make_course
from tests.helpers import eventually, pg_execute, pg_scalar
from tests.payments.conftest import (
    checkout,
    deliver,
    enrollments_of,
    order_status,
    pay,
)


async def bought(app: FastAPI, client: httpx.AsyncClient, learner: TestUser, course: Any) -> Any:
    order = (await checkout(client, learner, course["id"]))["order"]
    event = await pay(app, client, order)
    return order, event


async def coupon(client: httpx.AsyncClient, admin: TestUser, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/coupons", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_a_refund_ends_the_enrolment_and_its_documents(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order, _ = await bought(app, client, learner, paid_course)
    [enrollment] = (await client.get("/api/me/enrollments", headers=learner.headers)).json()[
        "items"
    ]

    refunded = await client.post(
        f"/api/orders/{order['id']}/refund", headers=learner.headers, json={"reason": "Mistake"}
    )

    assert refunded.status_code == 200, refunded.text
    body = refunded.json()
    assert body["status"] == "refunded"
    assert body["refund"]["amount"] == "19.99"
    assert body["refund"]["provider_refund_id"].startswith("re_")
    assert await enrollments_of(app, learner, paid_course["id"]) == 0
    lessons = await client.get(f"/api/courses/{paid_course['id']}/lessons", headers=learner.headers)
    assert all(not lesson.get("content") for lesson in lessons.json())

    async def documents_gone() -> bool:
        found = await app.state.mongo_db.lesson_progress.count_documents(
            {"enrollmentId": enrollment["id"]}
        )
        return bool(found == 0)

    assert await eventually(documents_gone)


async def test_asking_for_a_refund_twice_refunds_once(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order, _ = await bought(app, client, learner, paid_course)
    url = f"/api/orders/{order['id']}/refund"

    first, second = await asyncio.gather(
        client.post(url, headers=learner.headers, json={}),
        client.post(url, headers=learner.headers, json={}),
    )

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert await pg_scalar(app, "SELECT count(*) FROM refunds") == 1


async def test_a_learner_refunds_only_within_the_window_and_staff_at_any_time(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    admin: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order, _ = await bought(app, client, learner, paid_course)
    await pg_execute(
        app, "UPDATE orders SET paid_at = now() - interval '30 days' WHERE id = :id", id=order["id"]
    )
    url = f"/api/orders/{order['id']}/refund"

    late = await client.post(url, headers=learner.headers, json={})
    staff = await client.post(url, headers=admin.headers, json={"reason": "Goodwill"})

    assert late.status_code == 403, late.text
    assert "refundable_until" in late.json()
    assert staff.status_code == 200, staff.text
    assert staff.json()["refund"]["reason"] == "Goodwill"


async def test_someone_elses_order_cannot_be_refunded_or_seen(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    bob: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order, _ = await bought(app, client, learner, paid_course)

    response = await client.post(f"/api/orders/{order['id']}/refund", headers=bob.headers, json={})

    assert response.status_code == 404, response.text
    assert await order_status(app, order["id"]) == "paid"


async def test_a_pending_order_cannot_be_refunded(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]

    response = await client.post(
        f"/api/orders/{order['id']}/refund", headers=learner.headers, json={}
    )

    assert response.status_code == 409, response.text


async def test_a_refund_made_at_stripe_ends_the_enrolment(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, paid_course: dict[str, Any]
) -> None:
    order, paid = await bought(app, client, learner, paid_course)
    intent = paid["data"]["object"]["payment_intent"]
    refund = events.event("charge.refunded", events.charge_refunded(intent, 1999, "eur"))

    response = await deliver(client, app.state.settings.webhook_secret, refund)

    assert response.json()["outcome"] == "refunded"
    assert await order_status(app, order["id"]) == "refunded"
    assert await enrollments_of(app, learner, paid_course["id"]) == 0


async def test_a_percent_coupon_discounts_and_a_full_one_enrols_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    bob: TestUser,
    admin: TestUser,
    paid_course: dict[str, Any],
) -> None:
    await coupon(client, admin, code="SPRING25", kind="percent", percent_off="25")
    await coupon(client, admin, code="GIFT100", kind="percent", percent_off="100")

    quarter = await checkout(client, learner, paid_course["id"], coupon="spring25")
    gift = await checkout(client, bob, paid_course["id"], coupon="GIFT100")

    assert (quarter["order"]["discount"], quarter["order"]["total"]) == ("5.00", "14.99")
    assert quarter["order"]["coupon_code"] == "SPRING25"
    assert gift["enrolled"] is True
    assert (gift["order"]["status"], gift["order"]["total"]) == ("paid", "0.00")
    assert await enrollments_of(app, bob, paid_course["id"]) == 1


async def test_a_fixed_coupon_needs_the_courses_currency(
    client: httpx.AsyncClient, learner: TestUser, admin: TestUser, paid_course: dict[str, Any]
) -> None:
    await coupon(client, admin, code="FIVEUSD", kind="fixed", amount_off="5.00", currency="USD")
    await coupon(client, admin, code="FIVEEUR", kind="fixed", amount_off="5.00", currency="EUR")

    wrong = await client.post(
        f"/api/courses/{paid_course['id']}/checkout",
        headers=learner.headers,
        json={"coupon": "FIVEUSD"},
    )
    right = await checkout(client, learner, paid_course["id"], coupon="FIVEEUR")

    assert wrong.status_code == 422, wrong.text
    assert right["order"]["total"] == "14.99"


async def test_a_coupon_past_its_window_for_another_course_or_unknown_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    admin: TestUser,
    teacher: TestUser,
    paid_course: dict[str, Any],
) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    other = await make_course(client, teacher, price="5")
    await coupon(
        client,
        admin,
        code="OLD10",
        kind="percent",
        percent_off="10",
        valid_from=(past - timedelta(days=30)).isoformat(),
        valid_until=past.isoformat(),
    )
    await coupon(
        client, admin, code="OTHER10", kind="percent", percent_off="10", course_id=other["id"]
    )

    for code in ("OLD10", "OTHER10", "NOSUCH"):
        response = await client.post(
            f"/api/courses/{paid_course['id']}/checkout",
            headers=learner.headers,
            json={"coupon": code},
        )
        assert response.status_code == 422, (code, response.text)
    assert await pg_scalar(app, "SELECT count(*) FROM orders") == 0


async def test_a_learner_uses_a_coupon_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    admin: TestUser,
    teacher: TestUser,
    paid_course: dict[str, Any],
) -> None:
    second_course = await make_course(client, teacher, price="9.99")
    await coupon(client, admin, code="ONCE10", kind="percent", percent_off="10")
    await checkout(client, learner, paid_course["id"], coupon="ONCE10")

    again = await client.post(
        f"/api/courses/{second_course['id']}/checkout",
        headers=learner.headers,
        json={"coupon": "ONCE10"},
    )

    assert again.status_code == 409, again.text
    assert await pg_scalar(app, "SELECT count(*) FROM orders") == 1


async def test_a_coupons_redemption_limit_holds_under_concurrency(
    app: FastAPI, client: httpx.AsyncClient, admin: TestUser, paid_course: dict[str, Any]
) -> None:
    await coupon(client, admin, code="FIRST2", kind="percent", percent_off="50", max_redemptions=2)
    learners = [await logged_in(app, client) for _ in range(6)]

    answers = await asyncio.gather(
        *(
            client.post(
                f"/api/courses/{paid_course['id']}/checkout",
                headers=learner.headers,
                json={"coupon": "FIRST2"},
            )
            for learner in learners
        )
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 201, 409, 409, 409, 409], [a.text for a in answers]
    assert await pg_scalar(app, "SELECT redemptions FROM coupons WHERE code = 'FIRST2'") == 2
    assert await pg_scalar(app, "SELECT count(*) FROM orders WHERE coupon_code = 'FIRST2'") == 2


async def test_an_expired_or_cancelled_order_gives_its_coupon_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    admin: TestUser,
    bob: TestUser,
    paid_course: dict[str, Any],
) -> None:
    await coupon(client, admin, code="ONLY1", kind="percent", percent_off="10", max_redemptions=1)
    order = (await checkout(client, learner, paid_course["id"], coupon="ONLY1"))["order"]
    await pg_execute(
        app,
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=order["id"],
    )
    await expire_orders(app.state.sessionmaker)

    freed = await checkout(client, bob, paid_course["id"], coupon="ONLY1")
    cancelled = await client.post(f"/api/orders/{freed['order']['id']}/cancel", headers=bob.headers)
    reused = await checkout(client, learner, paid_course["id"], coupon="ONLY1")

    assert cancelled.json()["status"] == "cancelled"
    assert reused["order"]["total"] == "17.99"
    assert await pg_scalar(app, "SELECT redemptions FROM coupons WHERE code = 'ONLY1'") == 1


async def test_a_pending_order_with_another_coupon_must_be_cancelled_first(
    client: httpx.AsyncClient, learner: TestUser, admin: TestUser, paid_course: dict[str, Any]
) -> None:
    await coupon(client, admin, code="LATE10", kind="percent", percent_off="10")
    await checkout(client, learner, paid_course["id"])

    response = await client.post(
        f"/api/courses/{paid_course['id']}/checkout",
        headers=learner.headers,
        json={"coupon": "LATE10"},
    )

    assert response.status_code == 409, response.text
    assert "order_id" in response.json()


async def test_coupons_are_validated_and_only_staff_make_them(
    client: httpx.AsyncClient, learner: TestUser, admin: TestUser
) -> None:
    bad = (
        {"code": "X", "kind": "percent", "percent_off": "10"},
        {"code": "PCT", "kind": "percent", "percent_off": "101"},
        {"code": "PCT", "kind": "percent", "amount_off": "5"},
        {"code": "FIX", "kind": "fixed", "amount_off": "5"},
        {"code": "FIX", "kind": "fixed", "amount_off": "5", "currency": "eur"},
        {
            "code": "WIN",
            "kind": "percent",
            "percent_off": "5",
            "valid_from": "2026-02-01T00:00Z",
            "valid_until": "2026-01-01T00:00Z",
        },
    )
    for body in bad:
        response = await client.post("/api/coupons", headers=admin.headers, json=body)
        assert response.status_code == 422, (body, response.text)
    forbidden = await client.post(
        "/api/coupons",
        headers=learner.headers,
        json={"code": "MINE", "kind": "percent", "percent_off": "90"},
    )
    assert forbidden.status_code == 403
    await coupon(client, admin, code="DUP10", kind="percent", percent_off="10")
    taken = await client.post(
        "/api/coupons",
        headers=admin.headers,
        json={"code": "dup10", "kind": "percent", "percent_off": "5"},
    )
    assert taken.status_code == 409, taken.text
    listed = await client.get("/api/coupons", headers=admin.headers)
    assert [c["code"] for c in listed.json()["items"]] == ["DUP10"]


async def test_revenue_reports_money_in_and_out_per_currency(
    app: FastAPI,
    client: httpx.AsyncClient,
    learner: TestUser,
    bob: TestUser,
    teacher: TestUser,
    admin: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order, _ = await bought(app, client, learner, paid_course)
    await bought(app, client, bob, paid_course)
    await client.post(f"/api/orders/{order['id']}/refund", headers=learner.headers, json={})

    course = await client.get(
        f"/api/reports/courses/{paid_course['id']}/revenue?bucket=day", headers=teacher.headers
    )
    platform = await client.get("/api/reports/platform/revenue", headers=admin.headers)
    denied = await client.get("/api/reports/platform/revenue", headers=teacher.headers)

    assert course.status_code == 200, course.text
    [day] = course.json()["points"]
    assert (day["currency"], day["gross"], day["refunded"], day["net"], day["orders"]) == (
        "EUR",
        "39.98",
        "19.99",
        "19.99",
        2,
    )
    assert platform.json()["points"][0]["gross"] == "39.98"
    assert denied.status_code == 403
