"""The platform's clock: when a learning event happened.

Real time everywhere, except inside `simulated(at)`, which only `oneenglish seed-demo` enters to
lay down weeks of learning history through the application's own code (so the streaks,
leaderboards and achievements it shows were computed by the real engine, not written by hand).
A context variable, so it reaches exactly the calls made within that block (in-process requests
included) and nothing else; nothing reachable over HTTP sets it. What records when something
was really done (audit entries, sessions, accounts) keeps the real time either way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, DateTime, func, literal

_SIMULATED: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def now() -> datetime:
    return _SIMULATED.get() or datetime.now(UTC)


def simulated_now() -> datetime | None:
    return _SIMULATED.get()


def sql_now() -> ColumnElement[datetime]:
    """PostgreSQL's now() (the transaction's time), or the simulated instant."""
    at = _SIMULATED.get()
    return func.now() if at is None else literal(at, DateTime(timezone=True))


@contextlib.contextmanager
def simulated(at: datetime) -> Iterator[None]:
    if at.tzinfo is None:
        raise ValueError("a simulated time must be timezone-aware")
    token = _SIMULATED.set(at)
    try:
        yield
    finally:
        _SIMULATED.reset(token)
