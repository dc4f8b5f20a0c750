from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    model_validator,
)

from oneenglish.core.cursors import UtcDatetime
from oneenglish.courses.schemas import CENT, Currency

OrderStatus = Literal["pending", "paid", "refunded", "cancelled", "expired"]
# Coupon codes are matched in upper case: "spring25" is SPRING25.
CouponCode = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{2,39}$"),
]
Money = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckoutIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"coupon": "SPRING25"}, {}]})
    coupon: CouponCode | None = Field(None, description="A coupon code (case does not matter)")


class RefundIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Bought by mistake"}]})
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    provider_payment_id: str | None
    amount: Decimal
    currency: str
    fee: Decimal | None
    received_at: datetime

    @field_serializer("amount", "fee")
    def _amounts(self, value: Decimal | None) -> str | None:
        return _money(value)


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    provider_refund_id: str | None
    amount: Decimal
    currency: str
    reason: str | None
    created_at: datetime

    @field_serializer("amount")
    def _amount(self, value: Decimal) -> str | None:
        return _money(value)


class OrderOut(BaseModel):
    """An order, with the price, discount and currency as they were when it was placed."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    learner_id: uuid.UUID | None = Field(description="Null once the learner is erased")
    course_id: uuid.UUID | None = Field(description="Null once the course is deleted")
    course_title: str
    status: OrderStatus
    currency: str
    list_price: Decimal
    discount: Decimal
    total: Decimal
    coupon_code: str | None
    checkout_session_id: str | None = Field(description="Stripe's Checkout Session id")
    checkout_url: str | None = Field(
        description="Where the learner pays (Stripe Checkout), while the order is pending"
    )
    expires_at: datetime | None
    paid_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    payment: PaymentOut | None = None
    refund: RefundOut | None = None

    @field_serializer("list_price", "discount", "total")
    def _amounts(self, value: Decimal) -> str | None:
        return _money(value)


class CheckoutOut(BaseModel):
    order: OrderOut
    checkout_url: str | None = Field(
        description="Send the learner here to pay; null when nothing is to be paid"
    )
    enrolled: bool = Field(description="True when the order cost nothing and enrolled at once")


class OrderFilters(BaseModel):
    status: OrderStatus | None = None
    course_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    created_from: UtcDatetime | None = None
    created_before: UtcDatetime | None = None


class CouponIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "SPRING25",
                    "kind": "percent",
                    "percent_off": "25",
                    "max_redemptions": 100,
                },
                {"code": "WELCOME5", "kind": "fixed", "amount_off": "5.00", "currency": "EUR"},
            ]
        }
    )
    code: CouponCode
    kind: Literal["percent", "fixed"]
    percent_off: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = (
        None
    )
    amount_off: Money | None = None
    currency: Currency | None = Field(None, description="Required for a fixed amount")
    course_id: uuid.UUID | None = Field(None, description="Only this course (else every course)")
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    max_redemptions: Annotated[int, Field(gt=0, le=10_000_000)] | None = None

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> CouponIn:
        if self.kind == "percent" and (self.percent_off is None or self.amount_off is not None):
            raise ValueError("a percent coupon has percent_off and no amount_off")
        if self.kind == "percent" and self.currency is not None:
            raise ValueError("a percent coupon has no currency")
        if self.kind == "fixed" and (
            self.amount_off is None or self.currency is None or self.percent_off is not None
        ):
            raise ValueError("a fixed coupon has amount_off and currency, and no percent_off")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    kind: Literal["percent", "fixed"]
    percent_off: Decimal | None
    amount_off: Decimal | None
    currency: str | None
    course_id: uuid.UUID | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    redemptions: int
    created_at: datetime

    @field_serializer("percent_off", "amount_off")
    def _amounts(self, value: Decimal | None) -> str | None:
        return _money(value)


class WebhookOut(BaseModel):
    received: bool = True
    outcome: str = Field(description="What the event did (or why it did nothing)")
