"""Stripe: the only code that talks to the payments provider (PyPI `stripe`, its async client).

Every call that creates something carries an idempotency key derived from our own id (the
order's), so a retry after a timeout or a crash creates nothing twice at Stripe. What a
failure means is kept apart, because the caller answers differently:
- `ProviderUnavailable`: Stripe could not be reached, or refused for a reason of its own (5xx,
  rate limit, authentication): nothing was done there; retrying later is the answer.
- `ProviderOutcomeUnknown`: the request may have reached Stripe (a timeout, a dropped
  connection): it may or may not have been applied; retrying with the same key is safe.
- `ProviderRefused`: Stripe answered that the request is invalid (4xx): retrying will not help.

Webhooks are verified with Stripe's own signature check (HMAC-SHA256 over the timestamp and
body, with a tolerance window against replays).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import stripe

from oneenglish.core.logging import get_logger
from oneenglish.settings import Settings

log = get_logger("oneenglish.payments.provider")

# Currencies Stripe charges in whole units (no minor unit): amounts are sent as they are.
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)


class ProviderError(Exception):
    pass


class ProviderUnavailable(ProviderError):
    pass


class ProviderOutcomeUnknown(ProviderError):
    pass


class ProviderRefused(ProviderError):
    pass


class InvalidSignature(Exception):
    pass


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def minor_units(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount: cents for EUR, whole yen for JPY."""
    if currency.upper() in ZERO_DECIMAL:
        return int(amount)
    return int((amount * 100).to_integral_value())


def from_minor_units(amount: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


class Stripe:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        base = settings.stripe_api_base
        self.client = stripe.StripeClient(
            settings.stripe_key,
            http_client=stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds),
            base_addresses={"api": base} if base else {},
            # The client's own retries (with backoff, reusing the idempotency key).
            max_network_retries=2,
        )

    async def close(self) -> None:
        http = getattr(self.client, "_requestor", None)
        client = getattr(getattr(http, "_client", None), "close_async", None)
        if client is not None:
            await client()

    async def create_checkout(
        self,
        *,
        order_id: uuid.UUID,
        course_title: str,
        total: Decimal,
        currency: str,
        expires_at: datetime,
        email: str,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": str(order_id),
            "metadata": {"order_id": str(order_id)},
            "payment_intent_data": {"metadata": {"order_id": str(order_id)}},
            "customer_email": email,
            "expires_at": int(expires_at.timestamp()),
            "success_url": success_url,
            "cancel_url": cancel_url,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": minor_units(total, currency),
                        "product_data": {"name": course_title},
                    },
                }
            ],
        }
        session = await self._call(
            self.client.v1.checkout.sessions.create_async,
            params=params,
            options={"idempotency_key": f"checkout-{order_id}"},
        )
        if not session.url:
            raise ProviderRefused("Stripe returned a checkout session without a URL")
        return CheckoutSession(id=session.id, url=session.url)

    async def expire_checkout(self, session_id: str) -> None:
        await self._call(self.client.v1.checkout.sessions.expire_async, session_id)

    async def refund(self, *, order_id: uuid.UUID, payment_id: str) -> str:
        refund = await self._call(
            self.client.v1.refunds.create_async,
            params={"payment_intent": payment_id, "metadata": {"order_id": str(order_id)}},
            options={"idempotency_key": f"refund-{order_id}"},
        )
        return str(refund.id)

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event, if `signature` is Stripe's for this body and recent enough."""
        if not signature:
            raise InvalidSignature("No Stripe-Signature header")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                self.settings.webhook_secret,
                self.settings.stripe_webhook_tolerance_seconds,
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise InvalidSignature(str(exc).split("\n")[0] or "Bad signature") from exc
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise InvalidSignature("The body is not JSON") from exc
        if not isinstance(event, dict):
            raise InvalidSignature("The body is not an event")
        return event

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except stripe.APIConnectionError as exc:
            if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
                # No connection was made: the request never left.
                log.warning("stripe unreachable", error=type(exc.__cause__).__name__)
                raise ProviderUnavailable("Stripe cannot be reached") from exc
            # The connection failed after the request may have reached Stripe.
            log.warning("stripe did not answer", error=type(exc.__cause__).__name__)
            raise ProviderOutcomeUnknown("Stripe did not answer") from exc
        except (stripe.RateLimitError, stripe.AuthenticationError, stripe.PermissionError) as exc:
            log.error(
                "stripe_refused_the_account", error=type(exc).__name__, status=exc.http_status
            )
            raise ProviderUnavailable("Stripe refused the request for now") from exc
        except stripe.InvalidRequestError as exc:
            log.error("stripe refused the request", code=exc.code, status=exc.http_status)
            raise ProviderRefused(exc.user_message or "Stripe refused the request") from exc
        except stripe.StripeError as exc:
            if exc.http_status is not None and exc.http_status >= 500:
                raise ProviderOutcomeUnknown("Stripe failed while handling the request") from exc
            log.error("stripe error", error=type(exc).__name__, status=exc.http_status)
            raise ProviderRefused(exc.user_message or "Stripe refused the request") from exc
