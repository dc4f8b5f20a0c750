"""Orders, payments, refunds, coupons and the provider's events: the money side of enrolment.

Money is `numeric(10, 2)` with an ISO 4217 currency beside it; every total and state rule is a
constraint, so no code path (or hand-written SQL) can store an order whose total is not its
price less its discount, or a paid order without a payment time. An order keeps the course's
title, price and currency as they were when it was placed: later price changes touch no order.

An order is the learner's row (Row Level Security); when the learner is erased it stays as an
anonymous accounting record (learner null), and when the course is deleted it keeps its title.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.db.postgres import Base

ORDER_STATUSES = ("pending", "paid", "refunded", "cancelled", "expired")
LIVE_STATUSES = ("pending", "paid")  # at most one per learner and course
CLOSED_STATUSES = ("refunded", "cancelled", "expired")
COUPON_KINDS = ("percent", "fixed")
CURRENCY_FORMAT = "^[A-Z]{3}$"


class Coupon(Base):
    __tablename__ = "coupons"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    amount_off: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # One course, or (null) every course.
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="CASCADE")
    )
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    # Orders holding the coupon now (pending or paid); an expired or cancelled one gives it back.
    redemptions: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(f"kind IN {COUPON_KINDS}", name="kind"),
        CheckConstraint(
            "(kind = 'percent' AND percent_off > 0 AND percent_off <= 100 "
            "AND amount_off IS NULL AND currency IS NULL) OR "
            "(kind = 'fixed' AND amount_off > 0 AND currency IS NOT NULL AND percent_off IS NULL)",
            name="amount_by_kind",
        ),
        CheckConstraint(f"currency ~ '{CURRENCY_FORMAT}'", name="currency_format"),
        CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9_-]{2,39}$'", name="code_format"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from",
            name="window",
        ),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="max_positive"),
        CheckConstraint(
            "redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)",
            name="redemptions_within_limit",
        ),
        Index("ix_coupons_created_at_id", "created_at", "id"),
    )


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = uuid_pk()
    learner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="SET NULL")
    )
    course_title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    list_price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    discount: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, server_default="0")
    total: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("coupons.id", ondelete="SET NULL")
    )
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    # 'stripe' for a paid order; null for one that cost nothing (enrolled at once).
    provider: Mapped[str | None] = mapped_column(String(10))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint(f"status IN {ORDER_STATUSES}", name="status"),
        CheckConstraint(f"currency ~ '{CURRENCY_FORMAT}'", name="currency_format"),
        CheckConstraint("list_price >= 0", name="list_price_not_negative"),
        CheckConstraint("discount >= 0 AND discount <= list_price", name="discount_within_price"),
        CheckConstraint("total = list_price - discount", name="total_is_price_less_discount"),
        CheckConstraint(
            "(status IN ('paid', 'refunded')) = (paid_at IS NOT NULL)", name="paid_has_paid_at"
        ),
        CheckConstraint(
            f"(status IN {CLOSED_STATUSES}) = (closed_at IS NOT NULL)", name="closed_has_closed_at"
        ),
        CheckConstraint("(total = 0) = (provider IS NULL)", name="provider_only_when_charged"),
        CheckConstraint("provider IS NULL OR provider = 'stripe'", name="provider_known"),
        # One live order (pending or paid) per learner and course.
        Index(
            "uq_orders_live_learner_course",
            "learner_id",
            "course_id",
            unique=True,
            postgresql_where=text(f"status IN {LIVE_STATUSES}"),
        ),
        Index("ix_orders_learner_created", "learner_id", "created_at", "id"),
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_course_paid", "course_id", "paid_at"),
        # The expiry pass: pending orders by when their session ends.
        Index(
            "ix_orders_pending_expires",
            "expires_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class CouponRedemption(Base):
    """A learner holds a coupon once (per learner, whatever the course)."""

    __tablename__ = "coupon_redemptions"

    coupon_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("order_id", name="uq_coupon_redemptions_order_id"),)


class Payment(Base):
    """The money received for an order, as the provider reported it."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    provider_payment_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    received_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("order_id", name="uq_payments_order_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("fee IS NULL OR fee >= 0", name="fee_not_negative"),
        CheckConstraint(f"currency ~ '{CURRENCY_FORMAT}'", name="currency_format"),
        # A refund made at Stripe (its dashboard) names the payment, not our order.
        Index("ix_payments_provider_payment_id", "provider_payment_id"),
    )


class Refund(Base):
    """A whole order's money given back (refunds are of the whole order)."""

    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False
    )
    provider_refund_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("order_id", name="uq_refunds_order_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(f"currency ~ '{CURRENCY_FORMAT}'", name="currency_format"),
    )


class PaymentEvent(Base):
    """Each provider event handled, by its id: a redelivery finds its row and does nothing.
    Only the id, type and outcome are kept (the payload holds the payer's details)."""

    __tablename__ = "payment_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("orders.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    received_at: Mapped[datetime] = created_at_column()

    __table_args__ = (Index("ix_payment_events_received_at", "received_at"),)
