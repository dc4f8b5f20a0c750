"""Pending orders whose checkout session has ended are expired (their coupons go back), every
ORDER_EXPIRY_INTERVAL_SECONDS in each API process and by `oneenglish expire-orders`. Stripe's
own `checkout.session.expired` event does the same when it arrives; this pass makes the order's
state true even if that event is late or lost. Orders are locked with SKIP LOCKED, so passes
in several processes share the work and never wait on each other."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.logging import get_logger
from oneenglish.db import rls
from oneenglish.payments import service as payments
from oneenglish.settings import Settings

log = get_logger("oneenglish.orders")


async def expire_orders(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """One pass; returns how many orders it expired. It acts for the platform (db/rls.py)."""
    total = 0
    with rls.system():
        while True:
            async with sessionmaker() as db:
                expired = await payments.expire_due(db, now)
                await db.commit()
            total += expired
            if expired < payments.EXPIRY_BATCH:
                return total


async def expire_orders_forever(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """A pass every ORDER_EXPIRY_INTERVAL_SECONDS, the first at a random point of the first
    interval (workers start together). A failed pass is logged and tried again."""
    await asyncio.sleep(random.uniform(0, settings.order_expiry_interval_seconds))  # noqa: S311
    while True:
        try:
            expired = await expire_orders(sessionmaker)
            if expired:
                log.info("orders expired", count=expired)
        except Exception as exc:  # the next pass retries; an order may expire a little later
            log.warning("order expiry pass failed", error=str(exc))
        await asyncio.sleep(settings.order_expiry_interval_seconds)
