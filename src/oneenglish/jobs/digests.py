"""Email digests: each user who chose a daily or weekly digest for some notification types gets,
once per period, one mail of what of those types is still unread since their last digest.

A period is due from DIGEST_HOUR_UTC of each day (daily) or of each Monday (weekly). Every
API process runs a pass every DIGEST_INTERVAL_SECONDS, and `oneenglish send-digests` runs
one; the user's digest of a period is claimed in PostgreSQL (mail_digests: its primary key
is user, frequency and period) in the transaction that enqueues the mail, so however many
passes run at once, each user gets one digest per period. A period with nothing unread is
claimed and sends nothing."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.logging import get_logger
from oneenglish.db import rls
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.mail import service as mail
from oneenglish.notifications import service as notifications
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.users import service as users

log = get_logger("oneenglish.digests")

FREQUENCIES = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
ITEMS_PER_DIGEST = 20
PAGE = 200


@dataclass(frozen=True)
class Period:
    frequency: str
    key: str  # 2026-12-02 / 2026-W49
    starts_at: datetime  # when it became due


def due_period(frequency: str, now: datetime, hour: int) -> Period:
    """The latest period of `frequency` that is due at `now`."""
    today = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency == "daily":
        start = today if now >= today else today - timedelta(days=1)
        return Period(frequency, start.date().isoformat(), start)
    monday = today - timedelta(days=today.weekday())
    start = monday if now >= monday else monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return Period(frequency, f"{year}-W{week:02d}", start)


@dataclass
class DigestReport:
    claimed: int = 0
    mailed: int = 0


async def send_digests(
    sessionmaker: async_sessionmaker[AsyncSession],
    mongo: Database,
    settings: Settings,
    now: datetime | None = None,
) -> DigestReport:
    """One pass: every user with a digest due at `now` (default: the current time). It acts
    for the platform: every row (db/rls.py)."""
    with rls.system():
        return await _send_digests(sessionmaker, mongo, settings, now or datetime.now(UTC))


async def _send_digests(
    sessionmaker: async_sessionmaker[AsyncSession],
    mongo: Database,
    settings: Settings,
    now: datetime,
) -> DigestReport:
    report = DigestReport()
    for frequency in FREQUENCIES:
        period = due_period(frequency, now, settings.digest_hour_utc)
        after: str | None = None
        while True:
            page = await user_settings.with_digest(mongo, frequency, after, PAGE)
            for document in page:
                mailed = await _digest_of(sessionmaker, mongo, settings, document, period, now)
                if mailed is not None:
                    report.claimed += 1
                    report.mailed += int(mailed)
            if len(page) < PAGE:
                break
            after = page[-1]["_id"]
    return report


async def _digest_of(
    sessionmaker: async_sessionmaker[AsyncSession],
    mongo: Database,
    settings: Settings,
    document: MongoDocument,
    period: Period,
    now: datetime,
) -> bool | None:
    """The user's digest of `period`: None if it was claimed before, else whether it mailed."""
    channels = user_settings.channels_in(document)
    types = channels.in_digest(period.frequency)
    if not types:
        return None
    user_id = uuid.UUID(document["_id"])
    first_since = period.starts_at - FREQUENCIES[period.frequency]
    async with sessionmaker() as db, db.begin():
        since = await mail.claim_digest(db, user_id, period.frequency, period.key, now, first_since)
        if since is None:
            return None
        user = await users.find_user(db, user_id)
        if user is None or not user.is_active or user.erased_at is not None:
            return False
        items, total = await notifications.unread_between(
            mongo, str(user_id), types, since, now, ITEMS_PER_DIGEST
        )
        await mail.record_digest_size(db, user_id, period.frequency, period.key, total)
        if not items:
            return False
        mail.send(
            db,
            "digest",
            user_id=user_id,
            to_address=user.email,
            to_name=users.display_name(user),
            context={
                "frequency": period.frequency,
                "items": [
                    {
                        "title": i["title"],
                        "message": i["message"],
                        "when": i["createdAt"].strftime("%d %b %H:%M UTC"),
                    }
                    for i in items
                ],
                "more": total - len(items),
            },
            unsubscribe=types,
        )
        return True


async def send_digests_forever(
    sessionmaker: async_sessionmaker[AsyncSession], mongo: Database, settings: Settings
) -> None:
    """A pass every DIGEST_INTERVAL_SECONDS, the first at a random point of the first interval
    (workers start together). A failed pass (a database down) is logged and tried again."""
    await asyncio.sleep(random.uniform(0, settings.digest_interval_seconds))  # noqa: S311
    while True:
        try:
            report = await send_digests(sessionmaker, mongo, settings)
            if report.claimed:
                log.info("digests sent", claimed=report.claimed, mailed=report.mailed)
        except Exception as exc:  # the next pass retries; a digest may come a little later
            log.warning("digest pass failed", error=str(exc))
        await asyncio.sleep(settings.digest_interval_seconds)
