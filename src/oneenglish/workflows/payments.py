"""Buying a course across PostgreSQL and the payments provider, and what the provider says back.

Checkout: the order is committed (pending) before Stripe hears of it, then the Checkout Session
is created with the order's id as its idempotency key, then attached to the order. A crash or
timeout between the two leaves a pending order without a session: the learner's retry asks
Stripe again with the same key (the same session, not a second one), and the expiry pass ends
an order nobody came back for. A provider that refuses or cannot be reached cancels the order
(nothing can be paid on it) and says so.

Enrolment happens only in the transaction that records a paid order: the webhook's (signed by
Stripe, each event applied once by its id) or the checkout's own when nothing is to be paid.
A refund asks Stripe first (idempotent by order id), then records it and ends the enrolment.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.context import Actor
from oneenglish.core.errors import BadRequest, Conflict, DomainError, Unavailable
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal
from oneenglish.db import rls
from oneenglish.enrollments import service as enrollments
from oneenglish.payments import service as payments
from oneenglish.payments.provider import (
    InvalidSignature,
    ProviderOutcomeUnknown,
    ProviderRefused,
    ProviderUnavailable,
    Stripe,
)
from oneenglish.payments.schemas import CheckoutIn, CheckoutOut, OrderOut, RefundIn, WebhookOut
from oneenglish.sagas.runner import SagaRunner
from oneenglish.settings import Settings
from oneenglish.workflows.leave_course import end_enrollment

log = get_logger("oneenglish.workflows.payments")

PROVIDER_RETRY_SECONDS = 30


class ProviderFailed(DomainError):
    status = 502
    title = "Payment provider refused"
    slug = "payment-provider-refused"


def _not_configured() -> Unavailable:
    return Unavailable(
        "Payments are not configured on this server (STRIPE_API_KEY); nothing was charged",
        retry_after=3600,
        provider="stripe",
    )


async def checkout(
    db: AsyncSession,
    settings: Settings,
    stripe: Stripe,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    body: CheckoutIn,
) -> CheckoutOut:
    placed = await payments.place_order(db, settings, principal, actor, course_id, body)
    if not placed.needs_session:
        return placed.answer()  # the route commits (a free order is paid and enrolled)
    if not settings.payments_enabled:
        raise _not_configured()  # rolled back: no order is left behind
    await db.commit()  # the order exists before the provider hears of it
    order = placed.order
    base = settings.public_base_url.rstrip("/")
    try:
        session = await stripe.create_checkout(
            order_id=order.id,
            course_title=order.course_title,
            total=order.total,
            currency=order.currency,
            expires_at=order.expires_at or order.created_at,
            email=principal.email,
            success_url=f"{base}/orders/{order.id}?checkout=success",
            cancel_url=f"{base}/orders/{order.id}?checkout=cancelled",
        )
    except ProviderOutcomeUnknown as exc:
        raise Unavailable(
            "The payment provider did not answer. Your order is kept: retry the checkout "
            "(safe: the same order and session are used).",
            retry_after=PROVIDER_RETRY_SECONDS,
            order_id=str(order.id),
            outcome="unknown",
        ) from exc
    except (ProviderUnavailable, ProviderRefused) as exc:
        await payments.abandon(db, order.id)
        await db.commit()
        if isinstance(exc, ProviderUnavailable):
            raise Unavailable(
                "The payment provider is unavailable; nothing was charged and the order is "
                "cancelled. Try again later.",
                retry_after=PROVIDER_RETRY_SECONDS,
                order_id=str(order.id),
            ) from exc
        raise ProviderFailed(
            f"The payment provider refused this order ({exc}); nothing was charged",
            order_id=str(order.id),
        ) from exc
    attached = await payments.attach_session(db, order.id, session)
    return CheckoutOut(order=attached, checkout_url=attached.checkout_url, enrolled=False)


async def webhook(
    db: AsyncSession,
    runner: SagaRunner,
    settings: Settings,
    stripe: Stripe,
    payload: bytes,
    signature: str | None,
) -> WebhookOut:
    if not settings.payments_enabled:
        raise _not_configured()
    try:
        event = stripe.verify(payload, signature)
    except InvalidSignature as exc:
        raise BadRequest(f"Invalid webhook signature: {exc}", signature="invalid") from exc
    with rls.system():
        applied = await payments.apply_event(db, Actor.system(), event)
        if applied.ended_enrollment is not None:
            await _end(db, runner, applied.ended_enrollment[0])
    if applied.outcome == "malformed":
        raise BadRequest("The event has no id, type or object")
    return WebhookOut(outcome=applied.outcome)


async def refund(
    db: AsyncSession,
    runner: SagaRunner,
    settings: Settings,
    stripe: Stripe,
    principal: Principal,
    actor: Actor,
    order_id: uuid.UUID,
    body: RefundIn,
) -> OrderOut:
    target = await payments.refundable(db, settings, principal, order_id)
    if target.payment_id is None:
        return target.order  # refunded already: asking again changes nothing
    if not settings.payments_enabled:
        raise _not_configured()
    await db.commit()  # no transaction (or connection) held while the provider answers
    try:
        refund_id = await stripe.refund(order_id=order_id, payment_id=target.payment_id)
    except ProviderOutcomeUnknown as exc:
        raise Unavailable(
            "The payment provider did not answer: the refund may or may not have been made. "
            "Retry (safe: the provider makes one refund per order); the order says refunded "
            "once it is.",
            retry_after=PROVIDER_RETRY_SECONDS,
            outcome="unknown",
        ) from exc
    except ProviderUnavailable as exc:
        raise Unavailable(
            "The payment provider is unavailable; nothing was refunded. Try again later.",
            retry_after=PROVIDER_RETRY_SECONDS,
        ) from exc
    except ProviderRefused as exc:
        raise ProviderFailed(f"The payment provider refused the refund ({exc})") from exc
    applied = await payments.refunded(db, actor, order_id, refund_id, body.reason, principal.id)
    if applied.ended_enrollment is not None:
        await _end(db, runner, applied.ended_enrollment[0], actor)
    else:
        await db.commit()
    return await payments.get_order(db, principal, order_id)


async def cancel(
    db: AsyncSession, stripe: Stripe, principal: Principal, actor: Actor, order_id: uuid.UUID
) -> OrderOut:
    order = await payments.cancellable(db, principal, order_id)
    if order.status != "pending":
        return order  # ended already
    session_id = await payments.session_of(db, order_id)
    if session_id is not None:
        await db.commit()
        try:
            await stripe.expire_checkout(session_id)
        except ProviderRefused as exc:
            # Stripe will not expire a session that is complete: a payment is on its way.
            raise Conflict(
                "This order's checkout is complete: its payment is being confirmed",
                order_id=str(order_id),
            ) from exc
        except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:
            raise Unavailable(
                "The payment provider did not confirm the cancellation; the order is still "
                "pending. Try again.",
                retry_after=PROVIDER_RETRY_SECONDS,
            ) from exc
    return await payments.cancel(db, actor, order_id)


async def _end(
    db: AsyncSession, runner: SagaRunner, enrollment_id: uuid.UUID, actor: Actor | None = None
) -> None:
    with rls.system():
        enrollment = await enrollments.get_out(db, enrollment_id)
        if enrollment is None:
            await db.commit()
            return
        await end_enrollment(
            db, runner, actor or Actor.system(), enrollment, raise_if_pending=False
        )
