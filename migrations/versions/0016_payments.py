"""Payments: orders, payments, refunds, coupons and their redemptions, and the provider's
events handled (by id, so a redelivered webhook does nothing); courses gain a currency.

Every money rule is a constraint (payments/models.py): an order's total is its price less its
discount, a paid order has a payment time, a closed one a closing time, a coupon's redemptions
stay within its limit. Orders and coupon redemptions are the learner's rows under Row Level
Security; payments and refunds are visible through their order. Existing courses are priced
in EUR (DEFAULT_CURRENCY's default); a course with another currency is edited by its teacher.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 07:25:05.690278+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Whose rows each table's policy admits (besides the system scope): a learner's own orders,
# and the payments and refunds of those orders (a primary-key probe, as in 0013).
POLICIES = {
    "orders": "app_is_system() OR learner_id = app_user_id()",
    "coupon_redemptions": "app_is_system() OR learner_id = app_user_id()",
    "payments": "app_is_system() OR EXISTS (SELECT 1 FROM orders o WHERE o.id = payments.order_id)",
    "refunds": "app_is_system() OR EXISTS (SELECT 1 FROM orders o WHERE o.id = refunds.order_id)",
}


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("percent_off", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("amount_off", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("redemptions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'percent' AND percent_off > 0 AND percent_off <= 100 "
            "AND amount_off IS NULL AND currency IS NULL) OR "
            "(kind = 'fixed' AND amount_off > 0 AND currency IS NOT NULL AND percent_off IS NULL)",
            name=op.f("ck_coupons_amount_by_kind"),
        ),
        sa.CheckConstraint(
            "code ~ '^[A-Z0-9][A-Z0-9_-]{2,39}$'", name=op.f("ck_coupons_code_format")
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_coupons_currency_format")),
        sa.CheckConstraint("kind IN ('percent', 'fixed')", name=op.f("ck_coupons_kind")),
        sa.CheckConstraint(
            "max_redemptions IS NULL OR max_redemptions > 0", name=op.f("ck_coupons_max_positive")
        ),
        sa.CheckConstraint(
            "redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)",
            name=op.f("ck_coupons_redemptions_within_limit"),
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from",
            name=op.f("ck_coupons_window"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_coupons_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_coupons_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_index("ix_coupons_created_at_id", "coupons", ["created_at", "id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("learner_id", sa.UUID(), nullable=True),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("list_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column(
            "discount", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False
        ),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("coupon_id", sa.UUID(), nullable=True),
        sa.Column("coupon_code", sa.String(length=40), nullable=True),
        sa.Column("provider", sa.String(length=10), nullable=True),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status IN ('paid', 'refunded')) = (paid_at IS NOT NULL)",
            name=op.f("ck_orders_paid_has_paid_at"),
        ),
        sa.CheckConstraint(
            "(status IN ('refunded', 'cancelled', 'expired')) = (closed_at IS NOT NULL)",
            name=op.f("ck_orders_closed_has_closed_at"),
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_orders_currency_format")),
        sa.CheckConstraint(
            "provider IS NULL OR provider = 'stripe'", name=op.f("ck_orders_provider_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'refunded', 'cancelled', 'expired')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint(
            "(total = 0) = (provider IS NULL)", name=op.f("ck_orders_provider_only_when_charged")
        ),
        sa.CheckConstraint(
            "discount >= 0 AND discount <= list_price", name=op.f("ck_orders_discount_within_price")
        ),
        sa.CheckConstraint("list_price >= 0", name=op.f("ck_orders_list_price_not_negative")),
        sa.CheckConstraint(
            "total = list_price - discount", name=op.f("ck_orders_total_is_price_less_discount")
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_orders_coupon_id_coupons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_orders_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_orders_learner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_orders_checkout_session_id")),
    )
    op.create_index("ix_orders_course_paid", "orders", ["course_id", "paid_at"], unique=False)
    op.create_index("ix_orders_created_at_id", "orders", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_orders_learner_created", "orders", ["learner_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_orders_pending_expires",
        "orders",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_orders_status_created", "orders", ["status", "created_at", "id"], unique=False
    )
    op.create_index(
        "uq_orders_live_learner_course",
        "orders",
        ["learner_id", "course_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'paid')"),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("coupon_id", sa.UUID(), nullable=False),
        sa.Column("learner_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_coupon_redemptions_coupon_id_coupons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_coupon_redemptions_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_coupon_redemptions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("coupon_id", "learner_id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint("order_id", name="uq_coupon_redemptions_order_id"),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_events_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    op.create_index(
        "ix_payment_events_received_at", "payment_events", ["received_at"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_payments_currency_format")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_amount_not_negative")),
        sa.CheckConstraint("fee IS NULL OR fee >= 0", name=op.f("ck_payments_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payments_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("order_id", name="uq_payments_order_id"),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_refunds_currency_format")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_refunds_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_refunds_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_refunds_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("order_id", name="uq_refunds_order_id"),
    )
    op.add_column(
        "courses", sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_courses_currency_format"), "courses", "currency ~ '^[A-Z]{3}$'"
    )
    op.create_index(
        "ix_payments_provider_payment_id", "payments", ["provider_payment_id"], unique=False
    )
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY own_rows ON {table} USING ({rule}) WITH CHECK ({rule})")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_courses_currency_format"), "courses")
    op.drop_column("courses", "currency")
    op.drop_table("refunds")
    op.drop_table("payments")
    op.drop_index("ix_payment_events_received_at", table_name="payment_events")
    op.drop_table("payment_events")
    op.drop_table("coupon_redemptions")
    op.drop_index(
        "uq_orders_live_learner_course",
        table_name="orders",
        postgresql_where=sa.text("status IN ('pending', 'paid')"),
    )
    op.drop_index("ix_orders_status_created", table_name="orders")
    op.drop_index(
        "ix_orders_pending_expires",
        table_name="orders",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_orders_learner_created", table_name="orders")
    op.drop_index("ix_orders_created_at_id", table_name="orders")
    op.drop_index("ix_orders_course_paid", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_coupons_created_at_id", table_name="coupons")
    op.drop_table("coupons")
