"""Orders and what moves them: placing one (with a coupon), the provider's events (paid,
expired, refunded), refunds, cancellations, expiry, and the lists and reports that read them.

The state machine, enforced here under the order's row lock (and by the table's constraints):

    pending ──paid event──▶ paid ──refund──▶ refunded
       │ └──session expired / expiry pass──▶ expired
       └──cancel, or a failed async payment──▶ cancelled

An expired or cancelled order that Stripe reports paid after all (a late event) becomes paid:
the money was taken, so the learner gets the course. Enrolment happens only here, from a paid
order (the provider's signed webhook) or from an order that costs nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts import service as accounts
from oneenglish.audit import service as audit
from oneenglish.core import clock
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db import rls
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.enrollments import service as enrollments
from oneenglish.payments import repository
from oneenglish.payments.models import Coupon, Order
from oneenglish.payments.provider import CheckoutSession, from_minor_units
from oneenglish.payments.repository import OrderFilter, RevenueRow
from oneenglish.payments.schemas import (
    CheckoutIn,
    CheckoutOut,
    CouponIn,
    CouponOut,
    OrderFilters,
    OrderOut,
    PaymentOut,
    RefundOut,
)
from oneenglish.settings import Settings

log = get_logger("oneenglish.payments")

CENT = Decimal("0.01")
EXPIRY_BATCH = 200


# --- placing an order ------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    order: OrderOut
    # A checkout session is still to be asked for (a new pending order, or one whose first
    # request to the provider had no known outcome).
    needs_session: bool
    enrolled: bool

    def answer(self) -> CheckoutOut:
        return CheckoutOut(
            order=self.order, checkout_url=self.order.checkout_url, enrolled=self.enrolled
        )


def discount_of(price: Decimal, coupon: Coupon) -> Decimal:
    if coupon.percent_off is not None:
        off = (price * coupon.percent_off / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        off = coupon.amount_off or Decimal("0")
    return min(price, off)


async def place_order(
    db: AsyncSession,
    settings: Settings,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    body: CheckoutIn,
) -> Placed:
    course = await courses.get_visible(db, principal, course_id)
    if not course.is_published:
        raise Conflict("Only published courses can be bought")
    existing = await _existing_order(db, principal, actor, course, body)
    if existing is not None:
        return existing
    if course.price > 0:
        await accounts.ensure_verified(db, settings, principal.id, "paid_enrollment")
    now = clock.now()
    coupon = await _usable_coupon(db, body.coupon, course, now) if body.coupon else None
    discount = discount_of(course.price, coupon) if coupon else Decimal("0")
    total = course.price - discount
    free = total == 0
    try:
        async with db.begin_nested():
            order = await repository.insert_order(
                db,
                learner_id=principal.id,
                course_id=course.id,
                course_title=course.title,
                status="paid" if free else "pending",
                currency=course.currency,
                list_price=course.price,
                discount=discount,
                total=total,
                coupon_id=coupon.id if coupon else None,
                coupon_code=coupon.code if coupon else None,
                provider=None if free else "stripe",
                # The provider's session ends in real time, whatever the platform clock says.
                expires_at=None if free else _session_end(settings),
                paid_at=now if free else None,
            )
    except IntegrityError as exc:
        # Another checkout of this learner for this course committed first.
        raise Conflict("A checkout for this course is already in progress; retry") from exc
    if coupon is not None:
        if not await repository.add_redemption(db, coupon.id, principal.id, order.id):
            raise Conflict("You have used this coupon already", field="coupon")
        if not await repository.take_coupon(db, coupon.id):
            raise Conflict("This coupon has been fully redeemed", field="coupon")
    out = await _out(db, order)
    audit.record(db, actor, "order.created", "order", order.id, after=out)
    if free:
        audit.record(db, actor, "order.paid", "order", order.id)
        await enrollments.admit(db, actor, principal.id, course.id, course.title)
    return Placed(out, needs_session=not free, enrolled=free)


def _session_end(settings: Settings) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=settings.checkout_ttl_seconds)


async def _existing_order(
    db: AsyncSession, principal: Principal, actor: Actor, course: Any, body: CheckoutIn
) -> Placed | None:
    """What a checkout finds already there: an owned course, or a pending order (the same one
    is returned, so a retried checkout never makes a second); None: a new order is due."""
    live = await repository.live_order(db, principal.id, course.id, for_update=True)
    enrolled = await enrollments.is_enrolled(db, principal.id, course.id)
    if live is not None and live.status == "paid":
        if enrolled:
            raise Conflict("You already own this course", order_id=str(live.id))
        # Bought, then left: the course is still theirs.
        await enrollments.admit(db, actor, principal.id, course.id, course.title)
        return Placed(await _out(db, live), needs_session=False, enrolled=True)
    if enrolled:
        raise Conflict("You are already enrolled in this course")
    if live is None:
        return None
    if live.expires_at is not None and live.expires_at <= datetime.now(UTC):
        await _close(db, live, "expired")
        return None
    if live.coupon_code != body.coupon:
        raise Conflict(
            "An order for this course is waiting for payment: pay it, or cancel it "
            f"(POST /api/orders/{live.id}/cancel) to use another coupon",
            order_id=str(live.id),
        )
    return Placed(await _out(db, live), needs_session=live.checkout_url is None, enrolled=False)


async def _usable_coupon(db: AsyncSession, code: str, course: Any, now: datetime) -> Coupon:
    coupon = await repository.coupon_by_code(db, code)
    if coupon is None:
        raise InvalidInput("No such coupon", field="coupon")
    if coupon.valid_from is not None and now < coupon.valid_from:
        raise InvalidInput("This coupon is not valid yet", field="coupon")
    if coupon.valid_until is not None and now >= coupon.valid_until:
        raise InvalidInput("This coupon has expired", field="coupon")
    if coupon.course_id is not None and coupon.course_id != course.id:
        raise InvalidInput("This coupon is for another course", field="coupon")
    if coupon.kind == "fixed" and coupon.currency != course.currency:
        raise InvalidInput(
            f"This coupon is in {coupon.currency}; the course is priced in {course.currency}",
            field="coupon",
        )
    return coupon


async def attach_session(
    db: AsyncSession, order_id: uuid.UUID, session: CheckoutSession
) -> OrderOut:
    order = await repository.order(db, order_id, for_update=True)
    if order is None:
        raise NotFound(f"No order {order_id}")
    if order.status == "pending":
        order.checkout_session_id = session.id
        order.checkout_url = session.url
        await repository.flush(db)
    return await _out(db, order)


async def abandon(db: AsyncSession, order_id: uuid.UUID) -> None:
    """The provider refused the order's session: nothing can be paid, the order is cancelled."""
    order = await repository.order(db, order_id, for_update=True)
    if order is not None and order.status == "pending" and order.checkout_session_id is None:
        await _close(db, order, "cancelled")


# --- reading ---------------------------------------------------------------------------


async def get_order(db: AsyncSession, principal: Principal, order_id: uuid.UUID) -> OrderOut:
    return await _out(db, await _readable(db, principal, order_id))


async def order_by_id(db: AsyncSession, order_id: uuid.UUID) -> OrderOut | None:
    """An order for the platform's own tools (the command line), whoever's it is."""
    await rls.elevate(db)
    order = await repository.order(db, order_id)
    return None if order is None else await _out(db, order)


async def _readable(db: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    if principal.can("orders", "read"):
        await rls.elevate(db)  # staff read every order
    order = await repository.order(db, order_id)
    if order is None or (order.learner_id != principal.id and not principal.can("orders", "read")):
        raise NotFound(f"No order {order_id}")
    return order


async def list_mine(
    db: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[list[OrderOut], int]:
    rows, total = await repository.orders_page(
        db, OrderFilter(learner_id=principal.id), limit, offset
    )
    return await _outs(db, rows), total


async def list_all(
    db: AsyncSession, principal: Principal, filters: OrderFilters, limit: int, offset: int
) -> tuple[list[OrderOut], int]:
    if not principal.can("orders", "read"):
        raise Forbidden("Requires permission orders:read")
    await rls.elevate(db)
    rows, total = await repository.orders_page(
        db,
        OrderFilter(
            learner_id=filters.learner_id,
            course_id=filters.course_id,
            status=filters.status,
            created_from=filters.created_from,
            created_before=filters.created_before,
        ),
        limit,
        offset,
    )
    return await _outs(db, rows), total


async def receipts_of(db: AsyncSession, learner_id: uuid.UUID) -> list[OrderOut]:
    """Every order of the learner, with its payment and refund (for the export)."""
    return await _outs(db, await repository.orders_of_learner(db, learner_id))


async def _out(db: AsyncSession, order: Order) -> OrderOut:
    return (await _outs(db, [order]))[0]


async def _outs(db: AsyncSession, orders: Sequence[Order]) -> list[OrderOut]:
    ids = [o.id for o in orders if o.status in ("paid", "refunded")]
    payments = await repository.payments_of(db, ids)
    refunds = await repository.refunds_of(db, [o.id for o in orders if o.status == "refunded"])
    out = []
    for order in orders:
        payment, refund = payments.get(order.id), refunds.get(order.id)
        out.append(
            OrderOut.model_validate(order).model_copy(
                update={
                    "checkout_url": order.checkout_url if order.status == "pending" else None,
                    "payment": PaymentOut.model_validate(payment) if payment else None,
                    "refund": RefundOut.model_validate(refund) if refund else None,
                }
            )
        )
    return out


# --- the provider's events -------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    outcome: str
    order_id: uuid.UUID | None = None
    # An enrolment the event ended (a refund made at the provider): its documents go next.
    ended_enrollment: tuple[uuid.UUID, uuid.UUID] | None = None


async def apply_event(db: AsyncSession, actor: Actor, event: dict[str, Any]) -> Applied:
    """Apply one verified provider event, once: a redelivery (or a concurrent delivery) of the
    same event id finds it recorded and changes nothing."""
    event_id, event_type = event.get("id"), event.get("type")
    obj = (event.get("data") or {}).get("object")
    if (
        not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or not isinstance(obj, dict)
    ):
        return Applied("malformed")
    await rls.elevate(db)  # the provider acts for every learner
    if not await repository.claim_event(db, event_id[:255], event_type[:100]):
        return Applied("duplicate")
    applied = await _apply(db, actor, event_type, obj)
    await repository.set_event_outcome(db, event_id[:255], applied.outcome, applied.order_id)
    return applied


async def _apply(db: AsyncSession, actor: Actor, event_type: str, obj: dict[str, Any]) -> Applied:
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        order = await _order_of_session(db, obj)
        if order is None:
            return Applied("unknown_order")
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return Applied("awaiting_payment", order.id)
        return await _paid(db, actor, order, obj)
    if event_type in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        order = await _order_of_session(db, obj)
        if order is None:
            return Applied("unknown_order")
        if order.status != "pending":
            return Applied(f"already_{order.status}", order.id)
        status = "expired" if event_type.endswith("expired") else "cancelled"
        await _close(db, order, status)
        audit.record(db, actor, f"order.{status}", "order", order.id)
        return Applied(status, order.id)
    if event_type == "charge.refunded":
        payment_id = obj.get("payment_intent")
        if not isinstance(payment_id, str) or not obj.get("refunded"):
            return Applied("partial_refund_ignored")
        order = await repository.order_of_payment(db, payment_id, for_update=True)
        if order is None:
            return Applied("unknown_order")
        refunds = (obj.get("refunds") or {}).get("data") or [{}]
        refund_id = refunds[0].get("id") if isinstance(refunds[0], dict) else None
        return await refunded(db, actor, order.id, refund_id, "Refunded at the provider", None)
    return Applied("ignored")


async def _order_of_session(db: AsyncSession, obj: dict[str, Any]) -> Order | None:
    reference = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("order_id")
    try:
        order_id = uuid.UUID(str(reference))
    except ValueError:
        return None
    order = await repository.order(db, order_id, for_update=True)
    if order is None or order.provider is None:
        return None
    session_id = obj.get("id")
    if order.checkout_session_id is not None and session_id != order.checkout_session_id:
        log.error("payment event for another session of the order", order_id=str(order.id))
        return None
    return order


async def _paid(db: AsyncSession, actor: Actor, order: Order, obj: dict[str, Any]) -> Applied:
    if order.status in ("paid", "refunded"):
        return Applied(f"already_{order.status}", order.id)
    amount, currency = obj.get("amount_total"), str(obj.get("currency") or "").upper()
    if not isinstance(amount, int) or currency != order.currency:
        log.error("payment event without its amount", order_id=str(order.id))
        return Applied("amount_mismatch", order.id)
    paid = from_minor_units(amount, currency)
    if paid != order.total:
        log.error(
            "payment amount differs from the order's total",
            order_id=str(order.id),
            paid=str(paid),
            total=str(order.total),
        )
        return Applied("amount_mismatch", order.id)
    if order.status != "pending" and order.learner_id is not None and order.course_id is not None:
        # Closed, then paid after all (a late event): any newer pending order for the same
        # course gives way; a newer paid one means the learner paid twice (staff refund one).
        newer = await repository.live_order(db, order.learner_id, order.course_id, for_update=True)
        if newer is not None and newer.status == "paid":
            log.error("a course paid twice", order_id=str(order.id), other=str(newer.id))
            return Applied("paid_twice", order.id)
        if newer is not None:
            await _close(db, newer, "cancelled")
    order.status = "paid"
    order.paid_at = clock.now()
    order.closed_at = None
    order.checkout_url = None
    await repository.flush(db)
    payment_id = obj.get("payment_intent")
    await repository.add_payment(
        db,
        order_id=order.id,
        provider_payment_id=payment_id if isinstance(payment_id, str) else None,
        amount=paid,
        currency=currency,
    )
    audit.record(db, actor, "order.paid", "order", order.id)
    if order.learner_id is None or order.course_id is None:
        log.error(
            "an order was paid for an erased learner or a deleted course", order_id=str(order.id)
        )
        return Applied("paid_nothing_to_enrol", order.id)
    if await enrollments.is_enrolled(db, order.learner_id, order.course_id):
        return Applied("paid_already_enrolled", order.id)
    await enrollments.admit(db, actor, order.learner_id, order.course_id, order.course_title)
    return Applied("paid_enrolled", order.id)


# --- refunds and cancellations ---------------------------------------------------------


@dataclass(frozen=True)
class Refundable:
    order: OrderOut
    payment_id: str | None  # the provider's payment to refund; None: already refunded


async def refundable(
    db: AsyncSession, settings: Settings, principal: Principal, order_id: uuid.UUID
) -> Refundable:
    order = await _readable(db, principal, order_id)
    out = await _out(db, order)
    if order.status == "refunded":
        return Refundable(out, None)
    if order.status != "paid":
        raise Conflict(f"Only a paid order can be refunded (this one is {order.status})")
    if order.total == 0 or out.payment is None or out.payment.provider_payment_id is None:
        raise Conflict("Nothing was paid for this order; leave the course instead")
    if not principal.can("orders", "refund"):
        if order.learner_id != principal.id:
            raise Forbidden("Requires permission orders:refund")
        window = timedelta(days=settings.self_refund_window_days)
        assert order.paid_at is not None
        if clock.now() > order.paid_at + window:
            raise Forbidden(
                f"Orders can be refunded by their learner within "
                f"{settings.self_refund_window_days} days of payment; ask an administrator",
                refundable_until=(order.paid_at + window).isoformat(),
            )
    return Refundable(out, out.payment.provider_payment_id)


async def refunded(
    db: AsyncSession,
    actor: Actor,
    order_id: uuid.UUID,
    provider_refund_id: str | None,
    reason: str | None,
    requested_by: uuid.UUID | None,
) -> Applied:
    """Record a refund the provider made (asked by us, or at its dashboard) and end the
    enrolment: the policy is that a refunded course is no longer the learner's."""
    await rls.elevate(db)  # the refund and the enrolment it ends, whoever asked
    order = await repository.order(db, order_id, for_update=True)
    if order is None:
        raise NotFound(f"No order {order_id}")
    if order.status == "refunded":
        return Applied("already_refunded", order.id)
    if order.status != "paid":
        return Applied(f"refund_of_{order.status}_ignored", order.id)
    order.status = "refunded"
    order.closed_at = clock.now()
    await repository.flush(db)
    await repository.add_refund(
        db,
        order_id=order.id,
        provider_refund_id=provider_refund_id,
        amount=order.total,
        currency=order.currency,
        reason=reason,
        requested_by=requested_by,
    )
    audit.record(db, actor, "order.refunded", "order", order.id)
    ended = None
    if order.learner_id is not None and order.course_id is not None:
        enrollment_id = await enrollments.enrollment_of(db, order.learner_id, order.course_id)
        if enrollment_id is not None:
            ended = (enrollment_id, order.learner_id)
    return Applied("refunded", order.id, ended)


async def cancellable(db: AsyncSession, principal: Principal, order_id: uuid.UUID) -> OrderOut:
    order = await _readable(db, principal, order_id)
    if order.learner_id != principal.id and not principal.can("orders", "refund"):
        raise Forbidden("Only the order's learner or staff with orders:refund may cancel it")
    out = await _out(db, order)
    if order.status not in ("pending", "cancelled", "expired"):
        raise Conflict(f"Only a pending order can be cancelled (this one is {order.status})")
    return out


async def session_of(db: AsyncSession, order_id: uuid.UUID) -> str | None:
    order = await repository.order(db, order_id)
    return None if order is None else order.checkout_session_id


async def cancel(db: AsyncSession, actor: Actor, order_id: uuid.UUID) -> OrderOut:
    await rls.elevate(db)
    order = await repository.order(db, order_id, for_update=True)
    if order is None:
        raise NotFound(f"No order {order_id}")
    if order.status == "pending":
        await _close(db, order, "cancelled")
        audit.record(db, actor, "order.cancelled", "order", order.id)
    elif order.status in ("paid", "refunded"):
        raise Conflict("The order was paid meanwhile", order_id=str(order.id))
    return await _out(db, order)


async def expire_due(db: AsyncSession, now: datetime | None = None) -> int:
    """Expire the pending orders whose checkout session has ended (the provider's own expiry
    event may be late or lost); their coupons go back."""
    orders = await repository.due_for_expiry(db, now or datetime.now(UTC), EXPIRY_BATCH)
    for order in orders:
        await _close(db, order, "expired")
        audit.record(db, Actor.system(), "order.expired", "order", order.id)
    return len(orders)


async def _close(db: AsyncSession, order: Order, status: str) -> None:
    order.status = status
    order.closed_at = clock.now()
    order.checkout_url = None
    await repository.flush(db)
    if order.coupon_id is not None:
        await repository.give_back_coupon(db, order.id, order.coupon_id)


# --- coupons ---------------------------------------------------------------------------


async def create_coupon(
    db: AsyncSession, principal: Principal, actor: Actor, body: CouponIn
) -> CouponOut:
    if not principal.can("coupons", "manage"):
        raise Forbidden("Requires permission coupons:manage")
    if body.course_id is not None:
        await courses.get_visible(db, principal, body.course_id)
    try:
        async with db.begin_nested():
            coupon = await repository.insert_coupon(
                db, **body.model_dump(), created_by=principal.id
            )
    except IntegrityError as exc:
        raise Conflict(f"The coupon code {body.code} is taken", field="code") from exc
    out = CouponOut.model_validate(coupon)
    audit.record(db, actor, "coupon.created", "coupon", coupon.id, after=out)
    return out


async def list_coupons(
    db: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[list[CouponOut], int]:
    if not principal.can("coupons", "manage"):
        raise Forbidden("Requires permission coupons:manage")
    rows, total = await repository.coupons_page(db, limit, offset)
    return [CouponOut.model_validate(c) for c in rows], total


# --- reports ---------------------------------------------------------------------------


async def revenue(
    db: AsyncSession,
    principal: Principal,
    bucket: str,
    start: datetime,
    stop: datetime,
    course_id: uuid.UUID | None,
) -> list[RevenueRow]:
    """Money in (paid orders) and out (refunds) per day or week and currency, in [start, stop):
    a course's for its teacher or orders:read, the platform's for orders:read."""
    if course_id is not None:
        course = await courses.get_visible(db, principal, course_id)
        if not (principal.can("orders", "read") or courses.can_manage(principal, course)):
            raise Forbidden("Only the course's teacher or staff with orders:read see its revenue")
    elif not principal.can("orders", "read"):
        raise Forbidden("Requires permission orders:read")
    async with rls.elevated(db):  # every learner's order; the caller was authorised above
        return await repository.revenue(db, bucket, start, stop, course_id)


# --- the learner's data ----------------------------------------------------------------


async def _export_orders(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [o.model_dump(mode="json") for o in await receipts_of(db, user_id)]


async def _export_redemptions(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {"coupon_id": str(r.coupon_id), "order_id": str(r.order_id), "at": r.created_at.isoformat()}
        for r in await repository.redemptions_of(db, user_id)
    ]


# An erased learner's orders stay as anonymous accounting records (learner null: ON DELETE SET
# NULL), with their payments and refunds; their coupon redemptions go with them.
register_user_table(
    UserTable("orders", "orders", _export_orders),
    UserTable("coupon_redemptions", "coupon_redemptions", _export_redemptions),
    UserTable("refunds", excluded_because="exported with their orders (requested_by: who asked)"),
    UserTable("coupons", excluded_because="made by staff for everyone; kept without its author"),
)
