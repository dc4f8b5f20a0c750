"""The only code that touches orders, payments, refunds, coupons and payment_events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.payments.models import (
    LIVE_STATUSES,
    Coupon,
    CouponRedemption,
    Order,
    Payment,
    PaymentEvent,
    Refund,
)

# --- coupons ---------------------------------------------------------------------------


async def insert_coupon(db: AsyncSession, **values: Any) -> Coupon:
    coupon = Coupon(**values)
    db.add(coupon)
    await db.flush()
    await db.refresh(coupon)
    return coupon


async def coupon(db: AsyncSession, coupon_id: uuid.UUID) -> Coupon | None:
    return await db.get(Coupon, coupon_id, populate_existing=True)


async def coupon_by_code(db: AsyncSession, code: str) -> Coupon | None:
    found: Coupon | None = await db.scalar(select(Coupon).where(Coupon.code == code))
    return found


async def coupons_page(db: AsyncSession, limit: int, offset: int) -> tuple[Sequence[Coupon], int]:
    rows = await db.scalars(
        select(Coupon).order_by(Coupon.created_at.desc(), Coupon.id).limit(limit).offset(offset)
    )
    total = await db.scalar(select(func.count()).select_from(Coupon))
    return rows.all(), int(total or 0)


async def take_coupon(db: AsyncSession, coupon_id: uuid.UUID) -> bool:
    """One more redemption, if the limit allows: one statement, so concurrent checkouts
    cannot pass the limit together (the row lock orders them; the constraint backs it)."""
    taken = await db.scalar(
        update(Coupon)
        .where(
            Coupon.id == coupon_id,
            (Coupon.max_redemptions.is_(None)) | (Coupon.redemptions < Coupon.max_redemptions),
        )
        .values(redemptions=Coupon.redemptions + 1)
        .returning(Coupon.id)
    )
    return taken is not None


async def add_redemption(
    db: AsyncSession, coupon_id: uuid.UUID, learner_id: uuid.UUID, order_id: uuid.UUID
) -> bool:
    """False when the learner already holds this coupon."""
    added = await db.scalar(
        insert(CouponRedemption)
        .values(coupon_id=coupon_id, learner_id=learner_id, order_id=order_id)
        .on_conflict_do_nothing()
        .returning(CouponRedemption.order_id)
    )
    return added is not None


async def give_back_coupon(db: AsyncSession, order_id: uuid.UUID, coupon_id: uuid.UUID) -> None:
    """An order that ended unpaid frees its coupon: for its learner and for the limit."""
    released = await db.scalar(
        delete(CouponRedemption)
        .where(CouponRedemption.order_id == order_id)
        .returning(CouponRedemption.coupon_id)
    )
    if released is not None:
        await db.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.redemptions > 0)
            .values(redemptions=Coupon.redemptions - 1)
        )


async def redemptions_of(db: AsyncSession, learner_id: uuid.UUID) -> Sequence[CouponRedemption]:
    rows = await db.scalars(
        select(CouponRedemption)
        .where(CouponRedemption.learner_id == learner_id)
        .order_by(CouponRedemption.created_at)
    )
    return rows.all()


# --- orders ----------------------------------------------------------------------------


async def insert_order(db: AsyncSession, **values: Any) -> Order:
    order = Order(**values)
    db.add(order)
    await db.flush()
    await db.refresh(order)
    return order


async def order(db: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
    statement = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if for_update:
        statement = statement.with_for_update()
    found: Order | None = await db.scalar(statement)
    return found


async def live_order(
    db: AsyncSession, learner_id: uuid.UUID, course_id: uuid.UUID, *, for_update: bool = False
) -> Order | None:
    statement = (
        select(Order)
        .where(
            Order.learner_id == learner_id,
            Order.course_id == course_id,
            Order.status.in_(LIVE_STATUSES),
        )
        .execution_options(populate_existing=True)
    )
    if for_update:
        statement = statement.with_for_update()
    found: Order | None = await db.scalar(statement)
    return found


async def order_of_payment(
    db: AsyncSession, provider_payment_id: str, *, for_update: bool = False
) -> Order | None:
    statement = (
        select(Order)
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.provider_payment_id == provider_payment_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        statement = statement.with_for_update(of=Order)
    found: Order | None = await db.scalar(statement)
    return found


async def flush(db: AsyncSession) -> None:
    await db.flush()


@dataclass(frozen=True)
class OrderFilter:
    learner_id: uuid.UUID | None = None
    course_id: uuid.UUID | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


def _filtered(statement: Select[Any], where: OrderFilter) -> Select[Any]:
    if where.learner_id is not None:
        statement = statement.where(Order.learner_id == where.learner_id)
    if where.course_id is not None:
        statement = statement.where(Order.course_id == where.course_id)
    if where.status is not None:
        statement = statement.where(Order.status == where.status)
    if where.created_from is not None:
        statement = statement.where(Order.created_at >= where.created_from)
    if where.created_before is not None:
        statement = statement.where(Order.created_at < where.created_before)
    return statement


async def orders_page(
    db: AsyncSession, where: OrderFilter, limit: int, offset: int
) -> tuple[Sequence[Order], int]:
    rows = await db.scalars(
        _filtered(select(Order), where)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = await db.scalar(_filtered(select(func.count()).select_from(Order), where))
    return rows.all(), int(total or 0)


async def orders_of_learner(db: AsyncSession, learner_id: uuid.UUID) -> Sequence[Order]:
    rows = await db.scalars(
        select(Order).where(Order.learner_id == learner_id).order_by(Order.created_at, Order.id)
    )
    return rows.all()


async def due_for_expiry(db: AsyncSession, now: datetime, limit: int) -> Sequence[Order]:
    """Pending orders whose session has ended, locked; another process skips them."""
    rows = await db.scalars(
        select(Order)
        .where(Order.status == "pending", Order.expires_at <= now)
        .order_by(Order.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return rows.all()


# --- payments, refunds -----------------------------------------------------------------


async def add_payment(db: AsyncSession, **values: Any) -> None:
    await db.execute(insert(Payment).values(**values).on_conflict_do_nothing())


async def payment_of(db: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    found: Payment | None = await db.scalar(select(Payment).where(Payment.order_id == order_id))
    return found


async def payments_of(db: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Payment]:
    if not order_ids:
        return {}
    rows = await db.scalars(select(Payment).where(Payment.order_id.in_(order_ids)))
    return {p.order_id: p for p in rows}


async def add_refund(db: AsyncSession, **values: Any) -> None:
    await db.execute(insert(Refund).values(**values).on_conflict_do_nothing())


async def refunds_of(db: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Refund]:
    if not order_ids:
        return {}
    rows = await db.scalars(select(Refund).where(Refund.order_id.in_(order_ids)))
    return {r.order_id: r for r in rows}


# --- provider events -------------------------------------------------------------------


async def claim_event(db: AsyncSession, event_id: str, event_type: str) -> bool:
    """True for the first delivery of this event. A concurrent delivery waits on the key until
    the first one's transaction ends, then finds the row (if it committed) and does nothing."""
    claimed = await db.scalar(
        insert(PaymentEvent)
        .values(id=event_id, type=event_type, outcome="received")
        .on_conflict_do_nothing()
        .returning(PaymentEvent.id)
    )
    return claimed is not None


async def set_event_outcome(
    db: AsyncSession, event_id: str, outcome: str, order_id: uuid.UUID | None
) -> None:
    await db.execute(
        update(PaymentEvent)
        .where(PaymentEvent.id == event_id)
        .values(outcome=outcome, order_id=order_id)
    )


# --- reports ---------------------------------------------------------------------------

_REVENUE = text(
    """
    SELECT date_trunc(:bucket, moment AT TIME ZONE 'UTC')::date AS bucket, currency,
           sum(gross) AS gross, sum(refunded) AS refunded, sum(orders) AS orders
    FROM (
        SELECT o.paid_at AS moment, o.currency, o.total AS gross, 0 AS refunded, 1 AS orders
        FROM orders o
        WHERE o.paid_at >= :start AND o.paid_at < :stop
          AND (CAST(:course_id AS uuid) IS NULL OR o.course_id = CAST(:course_id AS uuid))
        UNION ALL
        SELECT r.created_at, r.currency, 0, r.amount, 0
        FROM refunds r JOIN orders o ON o.id = r.order_id
        WHERE r.created_at >= :start AND r.created_at < :stop
          AND (CAST(:course_id AS uuid) IS NULL OR o.course_id = CAST(:course_id AS uuid))
    ) movements
    GROUP BY 1, 2
    ORDER BY 1, 2
    """
)


@dataclass(frozen=True)
class RevenueRow:
    bucket: date
    currency: str
    gross: Decimal
    refunded: Decimal
    orders: int


async def revenue(
    db: AsyncSession,
    bucket: str,
    start: datetime,
    stop: datetime,
    course_id: uuid.UUID | None,
) -> list[RevenueRow]:
    rows = await db.execute(
        _REVENUE,
        {
            "bucket": bucket,
            "start": start,
            "stop": stop,
            "course_id": str(course_id) if course_id else None,
        },
    )
    return [
        RevenueRow(r.bucket, r.currency, Decimal(r.gross), Decimal(r.refunded), int(r.orders))
        for r in rows
    ]
