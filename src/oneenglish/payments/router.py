"""Checkout, orders, refunds, coupons and the provider's webhook (README "Payments")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Query, Request, status

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession
from oneenglish.payments import service
from oneenglish.payments.dependencies import StripeClient
from oneenglish.payments.schemas import (
    CheckoutIn,
    CheckoutOut,
    CouponIn,
    CouponOut,
    OrderFilters,
    OrderOut,
    RefundIn,
    WebhookOut,
)
from oneenglish.sagas.dependencies import Sagas
from oneenglish.workflows import payments as buying

router = ApiRouter(tags=["payments"])


@router.post(
    "/api/courses/{course_id}/checkout",
    status_code=status.HTTP_201_CREATED,
    summary="Buy a course: an order and its Stripe Checkout page",
    description="Creates a pending order at the course's current price (less the coupon) and a "
    "Stripe Checkout Session; send the learner to `checkout_url`. The enrolment is made when "
    "Stripe reports the payment (the webhook), not here. A free course or a 100 % coupon "
    "enrols at once (`enrolled: true`). Asking again while the order is pending returns the "
    "same order and page.",
    responses={
        403: {"description": "REQUIRE_VERIFIED_EMAIL_FOR names paid_enrollment: verify first"},
        409: {"description": "Already owned or enrolled, or a pending order with another coupon"},
        502: {"description": "Stripe refused the order: nothing was charged"},
    },
)
async def checkout(
    course_id: uuid.UUID,
    body: CheckoutIn,
    db: DbSession,
    settings: AppSettings,
    stripe: StripeClient,
    principal: CurrentUser,
    actor: CurrentActor,
) -> CheckoutOut:
    return await buying.checkout(db, settings, stripe, principal, actor, course_id, body)


@router.post(
    "/api/payments/webhook",
    summary="Stripe's events (signed): payments, expiries, refunds",
    description="Verified with STRIPE_WEBHOOK_SECRET (`Stripe-Signature`, at most "
    "STRIPE_WEBHOOK_TOLERANCE_SECONDS old). Each event id is applied once: redeliveries, even "
    "concurrent ones, answer 200 with `outcome: duplicate`. Handled: "
    "`checkout.session.completed` and `.async_payment_succeeded` (the order is paid and the "
    "learner enrolled, in one transaction), `.expired` and `.async_payment_failed`, and "
    "`charge.refunded` (a refund made at Stripe ends the enrolment). Others: `ignored`.",
    responses={400: {"description": "Missing, forged or stale signature: nothing changed"}},
)
async def webhook(
    request: Request,
    db: DbSession,
    sagas: Sagas,
    settings: AppSettings,
    stripe: StripeClient,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookOut:
    payload = await request.body()
    return await buying.webhook(db, sagas, settings, stripe, payload, stripe_signature)


@router.get("/api/me/orders", summary="My orders, newest first, with payments and refunds")
async def my_orders(db: DbSession, principal: CurrentUser, page: Pagination) -> Page[OrderOut]:
    items, total = await service.list_mine(db, principal, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.get("/api/orders", summary="Every order, filtered (orders:read)")
async def all_orders(
    db: DbSession,
    principal: CurrentUser,
    page: Pagination,
    filters: Annotated[OrderFilters, Query()],
) -> Page[OrderOut]:
    items, total = await service.list_all(db, principal, filters, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.get("/api/orders/{order_id}", summary="An order (its learner, or orders:read)")
async def get_order(order_id: uuid.UUID, db: DbSession, principal: CurrentUser) -> OrderOut:
    return await service.get_order(db, principal, order_id)


@router.post(
    "/api/orders/{order_id}/refund",
    summary="Refund a paid order and end its enrolment",
    description="Staff with orders:refund at any time; the learner within "
    "SELF_REFUND_WINDOW_DAYS of paying. The whole total is refunded at Stripe (once per "
    "order, whatever the retries) and the enrolment ends at once (its progress documents are "
    "removed, as when leaving the course). Asking again returns the refunded order.",
    responses={
        409: {"description": "Not paid, or nothing was paid"},
        502: {"description": "Stripe refused the refund"},
    },
)
async def refund_order(
    order_id: uuid.UUID,
    body: RefundIn,
    db: DbSession,
    sagas: Sagas,
    settings: AppSettings,
    stripe: StripeClient,
    principal: CurrentUser,
    actor: CurrentActor,
) -> OrderOut:
    return await buying.refund(db, sagas, settings, stripe, principal, actor, order_id, body)


@router.post(
    "/api/orders/{order_id}/cancel",
    summary="Cancel a pending order (its checkout page stops working)",
    responses={409: {"description": "The order is paid, or its payment is being confirmed"}},
)
async def cancel_order(
    order_id: uuid.UUID,
    db: DbSession,
    stripe: StripeClient,
    principal: CurrentUser,
    actor: CurrentActor,
) -> OrderOut:
    return await buying.cancel(db, stripe, principal, actor, order_id)


@router.post(
    "/api/coupons",
    status_code=status.HTTP_201_CREATED,
    summary="Create a coupon (coupons:manage)",
    responses={409: {"description": "The code is taken"}},
)
async def create_coupon(
    body: CouponIn, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> CouponOut:
    return await service.create_coupon(db, principal, actor, body)


@router.get("/api/coupons", summary="Coupons, newest first (coupons:manage)")
async def list_coupons(db: DbSession, principal: CurrentUser, page: Pagination) -> Page[CouponOut]:
    items, total = await service.list_coupons(db, principal, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)
