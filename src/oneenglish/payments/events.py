"""Stripe events as Stripe sends them, signed with the webhook secret: for what plays Stripe's
part where Stripe cannot call us (tests, `oneenglish payments simulate`, the demo seed).

stripe-mock answers API calls but sends no webhooks, so these are built here in the shape of
Stripe's own payloads (the fields our handler reads, and the envelope every event has) and
signed with Stripe's documented scheme: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" keyed by the endpoint secret>`. The handler checks them with the `stripe`
library's verifier, exactly as it checks Stripe's. Hand-written: the library verifies
signatures but offers no way to make one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal
from typing import Any

from oneenglish.payments.provider import minor_units

__all__ = ["charge_refunded", "checkout_session", "event", "minor_units", "signed"]


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    at = int(time.time()) if timestamp is None else timestamp
    signed = f"{at}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def checkout_session(
    order: dict[str, Any],
    *,
    payment_status: str = "paid",
    payment_intent: str | None = None,
    amount: Decimal | None = None,
) -> dict[str, Any]:
    """The Checkout Session object of `order` (an OrderOut as JSON), as Stripe reports it."""
    currency = str(order["currency"])
    total = Decimal(str(order["total"])) if amount is None else amount
    return {
        "id": order.get("checkout_session_id") or f"cs_test_{secrets.token_hex(12)}",
        "object": "checkout.session",
        "client_reference_id": str(order["id"]),
        "metadata": {"order_id": str(order["id"])},
        "mode": "payment",
        "status": "complete" if payment_status == "paid" else "open",
        "payment_status": payment_status,
        "amount_total": minor_units(total, currency),
        "currency": currency.lower(),
        "payment_intent": payment_intent or f"pi_{secrets.token_hex(12)}",
    }


def charge_refunded(payment_intent: str, amount: int, currency: str) -> dict[str, Any]:
    return {
        "id": f"ch_{secrets.token_hex(12)}",
        "object": "charge",
        "payment_intent": payment_intent,
        "amount": amount,
        "amount_refunded": amount,
        "currency": currency.lower(),
        "refunded": True,
        "refunds": {"object": "list", "data": [{"id": f"re_{secrets.token_hex(12)}"}]},
    }


def signed(body: dict[str, Any], secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The request body and its Stripe-Signature header."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    return payload, signature_header(payload, secret, timestamp)
