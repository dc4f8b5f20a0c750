"""Who did something, from where: recorded with every audited change, every activity entry and
every error log entry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# An ASGI scope, typed without importing the web framework (services import this module).
Scope = Mapping[str, Any]

# Key in the request's state (`scope["state"]`) under which authentication leaves the caller's
# user id: the only place code outside the endpoint (middleware, error handlers) can learn it.
PRINCIPAL_ID = "principal_id"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID | None
    ip: str | None
    request_id: str | None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None, None)


@dataclass(frozen=True, slots=True)
class UnhandledError:
    """What is known about a request whose error no handler expected."""

    error_id: str
    error: BaseException
    user_id: uuid.UUID | None
    method: str
    path: str
    route: str | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    query: list[tuple[str, str]]


def principal_id(scope: Scope) -> uuid.UUID | None:
    value: Any = scope.get("state", {}).get(PRINCIPAL_ID)
    return value if isinstance(value, uuid.UUID) else None


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (`/api/lessons/{lesson_id}`), None if none matched.

    FastAPI leaves the route in the scope; its `path_format` is the path declared on its
    router, prefix included. Every router here carries its full prefix and is included without
    another one (tests/operations/test_routes.py checks it), so that is the served path."""
    path_format = getattr(scope.get("route"), "path_format", None)
    return path_format if isinstance(path_format, str) else None


def client_ip(scope: Scope) -> str | None:
    # The app's proxy-headers layer rewrites the client from X-Forwarded-For only when the
    # connection comes from a trusted proxy (FORWARDED_ALLOW_IPS), so a header cannot spoof it.
    client = scope.get("client")
    return str(client[0]) if client else None


# -- what a request has sent to the databases --------------------------------------------------


@dataclass(slots=True)
class WriteLedger:
    """Whether a request has sent a write (a COMMIT, a MongoDB write command) yet.

    When a database fails after that, whether the change happened is unknown: the answer must
    say so, never "nothing was changed". Kept per request in a context variable, marked by the
    database layers' own hooks (db.postgres, db.mongo), read by the 503 handlers."""

    writes_sent: bool = False
    # A PostgreSQL transaction holding writes committed, and the primary's WAL position after
    # it, for the answer's X-Read-After (db/replicas.py: read-your-writes on replicas).
    writes_committed: bool = False
    read_after: str | None = None
    # The database sessions the request's dependencies opened (the primary's, a replica's),
    # which its route commits together (core/routing.py).
    sessions: list[Any] = field(default_factory=list)


_ledger: ContextVar[WriteLedger | None] = ContextVar("write_ledger", default=None)


def open_write_ledger() -> WriteLedger:
    ledger = WriteLedger()
    _ledger.set(ledger)
    return ledger


def note_write_sent() -> None:
    ledger = _ledger.get()
    if ledger is not None:
        ledger.writes_sent = True


def note_session(session: object) -> None:
    ledger = _ledger.get()
    if ledger is not None:
        ledger.sessions.append(session)


def request_sessions() -> list[Any]:
    ledger = _ledger.get()
    return list(ledger.sessions) if ledger is not None else []


def note_writes_committed() -> None:
    ledger = _ledger.get()
    if ledger is not None:
        ledger.writes_committed = True


def writes_committed() -> bool:
    ledger = _ledger.get()
    return ledger is not None and ledger.writes_committed


def note_read_after(position: str) -> None:
    ledger = _ledger.get()
    if ledger is not None:
        ledger.read_after = position


def read_after() -> str | None:
    ledger = _ledger.get()
    return ledger.read_after if ledger is not None else None


def writes_sent() -> bool:
    ledger = _ledger.get()
    return ledger is not None and ledger.writes_sent
