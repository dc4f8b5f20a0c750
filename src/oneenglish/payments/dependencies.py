from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oneenglish.payments.provider import Stripe


async def _stripe(request: Request) -> Stripe:
    client: Stripe = request.app.state.stripe
    return client


StripeClient = Annotated[Stripe, Depends(_stripe)]
