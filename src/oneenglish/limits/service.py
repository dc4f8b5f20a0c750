"""Rate limits on actions that cost others something (sign-ups, messages, mails): a fixed
window per actor, counted in PostgreSQL so every API process shares it, refused with 429 and
Retry-After.

A hit counts in the caller's transaction: an action that fails and rolls back was not taken.
`ensure_allowed` reads without counting, for refusing early before expensive work (a sign-up's
Argon2 hash); `consume` counts, and is the one that decides under concurrency."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.errors import RateLimited
from oneenglish.limits import repository


@dataclass(frozen=True)
class Limit:
    """At most `count` of an action per `window_seconds` for one actor."""

    action: str  # names the action in the key and the problem: "signup", "direct message"
    count: int
    window_seconds: int


def _refuse(limit: Limit, seconds_left: float) -> RateLimited:
    return RateLimited(
        f"Too many {limit.action}s: at most {limit.count} per {limit.window_seconds} s. "
        "Try again later.",
        retry_after=max(1, math.ceil(seconds_left)),
        limit=limit.count,
        window_seconds=limit.window_seconds,
    )


async def ensure_allowed(db: AsyncSession, limit: Limit, actor: str) -> None:
    window = await repository.peek(db, f"{limit.action}:{actor}")
    if window is not None and window.hits >= limit.count:
        raise _refuse(limit, window.seconds_left)


async def consume(db: AsyncSession, limit: Limit, actor: str) -> None:
    window = await repository.hit(db, f"{limit.action}:{actor}", limit.window_seconds)
    if window.hits > limit.count:
        raise _refuse(limit, window.seconds_left)


async def forget_user(db: AsyncSession, user_id: uuid.UUID) -> int:
    """The counters that name a user (message limits count by user id): for their erasure."""
    return await repository.delete_naming(db, str(user_id))


async def delete_expired(db: AsyncSession) -> int:
    return await repository.delete_expired(db)
